Feature: BMS protection trips
  When the JK switches a MOSFET off, the bridge zeroes that direction at once.

  Background:
    Given a 16-cell battery at 50 % SoC
    And a "pylon-lv" inverter on the bus
    And the bridge is running

  Scenario: Charge MOSFET off
    When the BMS switches its charge MOSFET off
    Then within 1000 ms the inverter sees a charge current limit of 0 A
    And the inverter sees charging disabled
    And the inverter sees discharging enabled
    And the checker saw no invariant violation

  Scenario: Discharge MOSFET off
    When the BMS switches its discharge MOSFET off
    Then within 1000 ms the inverter sees a discharge current limit of 0 A
    And the inverter sees discharging disabled
    And the checker saw no invariant violation
