Feature: Cell voltage limits
  A cell at the charge-stop voltage stops charging within the reaction bound; a cell at the
  discharge-stop voltage stops discharging and asks the inverter to charge.

  Background:
    Given a 16-cell battery at 60 % SoC
    And a "pylon-lv" inverter on the bus
    And the bridge is running

  Scenario: Cell overvoltage stops charging at once, then charging recovers with hold and ramp
    When cell 5 rises to 3520 mV
    Then within 1000 ms the inverter sees a charge current limit of 0 A
    And the inverter sees charging disabled
    And the inverter sees discharging enabled
    When cell 5 returns to normal
    Then the inverter sees a charge current limit of 0 A for at least 1500 ms
    And within 6000 ms the inverter sees a charge current limit of 50 A
    And the charge current limit rose through at least 2 intermediate values
    And the checker saw no invariant violation

  Scenario: Cell undervoltage stops discharging and requests a force charge
    When cell 2 drops to 2790 mV
    Then within 1000 ms the inverter sees a discharge current limit of 0 A
    And the inverter sees discharging disabled
    And the inverter sees charging enabled
    When the battery SoC is set to 5 %
    Then within 2000 ms the inverter sees a force-charge request
    And the checker saw no invariant violation
