Feature: Bridge restart
  A restarted bridge starts safe: nothing until fresh BMS data, then limits from that data.

  Scenario: Restart mid-charge starts safe
    Given a 16-cell battery at 40 % SoC
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    And the inverter offers 2000 W of solar power
    And within 5000 ms the battery is charging
    When the bridge is stopped
    Then the last frame set before the stop had a charge current limit of 0 A
    When the bridge is started again
    Then the first frame set from the new bridge reflects fresh BMS data
    And the checker saw no invariant violation
