Feature: Each inverter profile's happy path
  The same battery, spoken to each inverter in its own protocol, with its own heartbeat.

  Scenario Outline: <inverter> hears a healthy battery and answers
    Given a 16-cell battery at 55 % SoC
    And a "<inverter>" inverter on the bus
    When the bridge is running
    And the inverter has heard 3 frame sets
    Then the inverter sees the pack voltage of the battery within 0.05 V
    And the inverter sees the SoC of the battery
    And the bridge reports the inverter link "<link>"
    And the checker saw no invariant violation

    Examples:
      | inverter  | link    |
      | pylon-lv  | alive   |
      | deye      | alive   |
      | goodwe-lv | alive   |
      | sma-si    | alive   |
      | victron   | alive   |
      | none      | unknown |
