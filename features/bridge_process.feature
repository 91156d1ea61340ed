Feature: The bridge process dies, stalls or fails
  A bridge that is killed starts safe again; one that stalls sends nothing built from the data it
  had before the stall; one that hits an error it cannot handle stops the inverter and exits
  non-zero, so systemd restarts it. Crash and stall are seen from the process handle, not a log.

  Background:
    Given a 16-cell battery at 40 % SoC
    And a "pylon-lv" inverter on the bus

  Scenario: Killed with SIGKILL mid-charge and started again: starts safe
    Given the bridge is running
    And the inverter offers 2000 W of solar power
    And within 5000 ms the battery is charging
    When the bridge is killed with SIGKILL
    And the bridge is started again
    Then the first frame set from the new bridge reflects fresh BMS data
    And the bridge process is still running
    And the checker saw no invariant violation

  Scenario: Frozen (SIGSTOP) for longer than the stale timeout mid-charge, then resumed: no frame from old data
    Given the bridge is running
    And the inverter offers 2000 W of solar power
    And within 5000 ms the battery is charging
    When the bridge is frozen for 5000 ms, then resumed
    And 2000 ms pass
    Then no frame after the resume carried limits above 0 before the bridge had read the BMS again
    And the bridge process is still running
    And the checker saw no invariant violation

  Scenario: An unhandled error inside the chart: zero limits, then a non-zero exit
    Given the bridge runs with the test-only chart fault hook
    And the bridge is running
    And the inverter offers 2000 W of solar power
    And within 5000 ms the battery is charging
    When an unhandled error happens inside the chart
    Then within 3000 ms the bridge exits with a non-zero code
    And the last frame set before the stop had a charge current limit of 0 A
    And the checker saw no invariant violation
