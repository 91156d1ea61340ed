Feature: CAN transport loss
  A lost CAN interface or adapter is reopened with back-off; the bridge never crash-loops.

  Scenario: CAN transport lost and back
    Given a 16-cell battery at 50 % SoC
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    When the CAN transport is lost for 2000 ms
    Then within 3000 ms the bridge reports can "down"
    And within 8000 ms the bridge reports can "link.up"
    And within 3000 ms the inverter hears frame sets again
    And the bridge process is still running
    And the checker saw no invariant violation
