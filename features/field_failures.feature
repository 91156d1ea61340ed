Feature: Field failures of the BMS link and the clock
  What a Raspberry Pi in a shed meets: an NTP step of an hour, a cable that blips while the pack
  floats, a BMS process that dies and comes back behind a port that stays open, an SLCAN adapter
  that writes junk. The bridge polls on, keeps its charge phase, reopens a quiet link and keeps
  the CAN link up.

  Scenario: The wall clock jumps back by an hour mid-charge: polling goes on, nothing moves
    Given a 16-cell battery at 40 % SoC
    And a "pylon-lv" inverter on the bus
    And the bridge runs on a wall clock the scenario can move
    And the bridge is running
    And the inverter offers 2000 W of solar power
    And within 5000 ms the battery is charging
    And within 6000 ms the inverter sees a charge current limit of 50 A
    When the bridge's wall clock jumps back by 1 h
    And 4000 ms pass
    Then the bridge stayed "connected" throughout
    And no limit moved since "clock jumped"
    And the bridge process is still running
    And the checker saw no invariant violation

  Scenario: The wall clock jumps forward by an hour during a recovery hold: the hold and the ramp still run their time
    Given a 16-cell battery at 60 % SoC
    And a "pylon-lv" inverter on the bus
    And the bridge runs on a wall clock the scenario can move
    And the bridge is running
    When cell 5 rises to 3520 mV
    Then within 1000 ms the inverter sees a charge current limit of 0 A
    When cell 5 returns to normal
    And 500 ms pass
    And the bridge's wall clock jumps forward by 1 h
    Then the inverter sees a charge current limit of 0 A for at least 1000 ms
    And within 6000 ms the inverter sees a charge current limit of 50 A
    And the charge current limit rose through at least 2 intermediate values
    And the bridge stayed "connected" throughout
    And the checker saw no invariant violation

  Scenario: A cable blip while the pack floats: the charge voltage stays at float
    Given a 16-cell battery at 95 % SoC
    And the bridge setting "control.voltage.floatTransitionPackMvPerS" is "2000"
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    When every cell is held at 3455 mV
    Then within 12000 ms the inverter sees a charge voltage limit of at most 54.0 V
    And the charge voltage limit is noted as "float"
    When the BMS link drops for 3500 ms
    Then within 3500 ms the bridge reports bms "stale"
    And within 8000 ms the bridge is back in bms state "connected"
    And 3000 ms pass
    Then the charge voltage limit never rose above its value at "float", but to the pack voltage in a zero-limit set
    And the checker saw no invariant violation

  Scenario: The BMS process is killed and restarted behind a live pty: the bridge reopens the port
    Given a 16-cell battery at 50 % SoC
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    When the BMS process is killed and a new one starts at the same path, the old pty left open
    Then within 8000 ms the bridge polls the new BMS process
    And within 8000 ms the bridge is back in bms state "connected"
    And the checker saw no invariant violation

  Scenario: A link that goes quiet without a disconnect is reopened after the configured misses
    Given a 16-cell battery at 50 % SoC
    And the bridge setting "bms.reopenAfterMissedPolls" is "4"
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    When the BMS process is killed and a new one starts at the same path, the old pty left open
    Then within 1600 ms the bridge polls the new BMS process
    And the bridge stayed "connected" throughout
    And the checker saw no invariant violation

  @slcan
  Scenario: Junk from the SLCAN adapter during a charge: the CAN link stays up, every period kept
    Given a 16-cell battery at 40 % SoC
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    And the inverter offers 2000 W of solar power
    And within 5000 ms the battery is charging
    When the SLCAN adapter sends junk for 5000 ms
    Then the bridge never reported can "down"
    And the bridge process is still running
    And the checker saw no invariant violation
