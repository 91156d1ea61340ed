Feature: Closed-loop cycles
  The virtual inverter's current flows into the virtual battery through the bridge's limits.
  A small pack whose time runs faster makes a full cycle take seconds.

  Scenario: Charge from low SoC to full, then discharge to empty
    Given the "jk-16s-10ah" battery at 20 % SoC, its time running 90 times faster
    And the bridge setting "control.current.maxChargeA" is "20"
    And the bridge setting "control.current.maxDischargeA" is "20"
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    When the inverter offers 3000 W of solar power
    Then within 60000 ms the battery is full: SoC at least 95 % and the charge current below 2 A
    And no cell went above its overvoltage protection
    When the inverter draws 2500 W for the house
    # 2500 W is 2C for this 10 Ah pack: every poll near the discharge stop sees the cells sag, any
    # such reading lowers DCL at once and a rise waits for hold and ramp (2 s each, 3 minutes of
    # this pack's time). Polling back to back near the stop (bms.fastPoll) sees more of those sags,
    # so the tail of the discharge is slower than at a fixed 500 ms pace: the wait is for the
    # physics, not a safety bound.
    Then within 90000 ms the pack is nearly empty: SoC at most 9 %
    And the inverter sees a force-charge request
    And no cell went below its undervoltage protection
    And the checker saw no invariant violation
