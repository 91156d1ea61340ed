Feature: BMS link loss and bad data
  Stale data is never passed on as fresh; garbage never becomes data; recovery needs good data.

  Background:
    Given a 16-cell battery at 50 % SoC
    And a "pylon-lv" inverter on the bus
    And the bridge is running

  Scenario: BMS disconnect: stale, fault, silence, then reconnection and recovery
    When the BMS goes silent
    Then within 3500 ms the bridge reports bms "stale"
    And the inverter sees a charge current limit of 0 A
    And the inverter sees a discharge current limit of 0 A
    And the inverter sees charging disabled
    Then within 2500 ms the bridge reports bms "fault.transmitting"
    And the inverter sees the "systemError" alarm
    Then within 4000 ms the bus goes silent
    When the BMS answers again
    Then within 3000 ms the bridge reports bms "connected"
    And within 6000 ms the inverter sees a charge current limit of 50 A
    And the checker saw no invariant violation

  Scenario: Serial link unplugged and plugged back
    When the BMS link drops for 4000 ms
    Then within 3500 ms the bridge reports bms "stale"
    And within 8000 ms the bridge reports bms "connected"
    And the checker saw no invariant violation

  Scenario: Wrong cell count is implausible data
    When the BMS reports 15 cells
    Then within 1500 ms the bridge reports bms "fault.transmitting"
    And the inverter sees a charge current limit of 0 A
    And the inverter sees a discharge current limit of 0 A
    When the BMS reports its real cells again
    Then within 3000 ms the bridge reports bms "connected"
    And no value of the poisoned replies reached the bus
    And the checker saw no invariant violation
