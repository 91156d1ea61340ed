Feature: Inverter heartbeat
  The inverter link state follows the heartbeat and clears by itself.

  Scenario: Heartbeat lost and back
    Given a 16-cell battery at 50 % SoC
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    Then within 3000 ms the bridge reports the inverter link "alive"
    When the inverter stops its heartbeat
    Then within 4000 ms the bridge reports the inverter link "silent"
    When the inverter resumes its heartbeat
    Then within 3000 ms the bridge reports the inverter link "alive"
    And the checker saw no invariant violation
