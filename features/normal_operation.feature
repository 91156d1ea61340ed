Feature: Normal operation
  The bridge tells the inverter what the battery is, within each frame's resolution,
  and lets it charge and discharge within the policy's limits.

  Scenario: Every frame matches the battery
    Given a 16-cell battery at 60 % SoC
    And a "pylon-lv" inverter on the bus
    When the bridge is running
    And the inverter has heard 3 frame sets
    Then the inverter sees the pack voltage of the battery within 0.05 V
    And the inverter sees the SoC of the battery
    And the inverter sees charging and discharging enabled
    And the inverter sees a charge voltage limit between 50 V and 55.3 V
    And the checker saw no invariant violation
