Feature: Bad BMS replies are never used
  Every reply a correct bridge must reject carries values that must never reach the bus: a cell
  at 4.0 V (it would zero the charge limit, and Victron's 0x373 shows it) and SoC 3 %. So each
  scenario proves the reply was ignored, not merely survived: no value of it on the bus, no limit
  moved, no state change, no invariant violated.

  Scenario Outline: <fault> carrying a 4.0 V cell and SoC 3 % is ignored
    Given a 16-cell battery at 50 % SoC
    And a "victron" inverter on the bus
    And the bridge is running
    And the inverter has heard 2 frame sets
    When the BMS sends <fault> for 1 s
    And 1500 ms pass
    Then the bridge stayed "connected" throughout
    And no value of the poisoned replies reached the bus
    And no limit moved since "fault began"
    And the checker saw no invariant violation

    Examples:
      | fault            |
      | garbage          |
      | bad checksums    |
      | truncated frames |

  Scenario: Late replies past the reply timeout, carrying a 4.0 V cell and SoC 3 %, are ignored
    Given a 16-cell battery at 50 % SoC
    And the bridge setting "bms.pollIntervalMs" is "600"
    And a "victron" inverter on the bus
    And the bridge is running
    And the inverter has heard 2 frame sets
    When the BMS sends late replies for 1 s
    And 1500 ms pass
    Then the bridge stayed "connected" throughout
    And no value of the poisoned replies reached the bus
    And no limit moved since "fault began"
    And the checker saw no invariant violation
