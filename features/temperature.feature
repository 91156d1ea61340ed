Feature: Charge temperature limits
  LiFePO4 must not be charged below 0 °C or above 55 °C (dbus-serialbattery tables).

  Background:
    Given a 16-cell battery at 50 % SoC
    And a "pylon-lv" inverter on the bus
    And the bridge is running

  Scenario: Freezing battery: no charging, discharging allowed
    When the battery temperature drops to -2 °C
    Then within 1500 ms the inverter sees a charge current limit of 0 A
    And the inverter sees discharging enabled
    And the checker saw no invariant violation

  Scenario: Hot battery: no charging, and the BMS over-temperature protection faults the bridge
    When the battery temperature rises to 56 °C
    Then within 1500 ms the inverter sees a charge current limit of 0 A
    When the BMS raises the "batteryOverTemperature" alarm
    Then within 1500 ms the bridge reports bms "fault.transmitting"
    And the inverter sees a discharge current limit of 0 A
    And the inverter sees the "systemError" alarm
    And the checker saw no invariant violation
