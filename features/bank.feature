Feature: Several packs in parallel, one battery to the inverter
  Each pack has its own JK BMS on its own link. The bridge polls them all, keeps each pack's own
  state, and tells the inverter what the bank as a whole may do: a pack that cannot take current
  is out of the sharing, a pack at its limit stops the bank, a pack that goes silent stops it
  (or, with bms.onPackLost degrade, is left out). The virtual inverter judges every pack's truth.

  Scenario: Two packs: the bank charges and discharges with both packs' limits
    Given a bank of 2 packs at 60 % SoC
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    Then the inverter sees charging and discharging enabled
    And the inverter sees a charge current limit of 50 A
    And within 2000 ms the bridge reports pack "1" "connected"
    And the checker saw no invariant violation

  Scenario: Four packs, one pack's cell runs away: the bank stops charging, then the others go on once its BMS opens its charge MOSFET
    Given a bank of 4 packs at 60 % SoC
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    When the inverter offers 3000 W of solar power
    And pack 3's cell 5 rises to 3520 mV
    Then within 1000 ms the inverter sees a charge current limit of 0 A
    And the inverter sees discharging enabled
    When pack 3's cell 5 rises to 3700 mV
    Then within 15000 ms the inverter sees a charge current limit above 0 A again
    And the inverter sees charging enabled
    And pack 3 carries no charge current while the others charge
    And the checker saw no invariant violation

  Scenario: One pack goes silent: by default the whole bank stops
    Given a bank of 3 packs at 60 % SoC
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    When pack 2 goes silent
    Then within 3500 ms the bridge reports bms "stale"
    And the inverter sees a charge current limit of 0 A
    And the inverter sees a discharge current limit of 0 A
    And within 100 ms the bridge reports pack "2" "stale"
    When pack 2 answers again
    Then within 3000 ms the bridge reports bms "connected"
    And the checker saw no invariant violation

  Scenario: One pack goes silent with onPackLost degrade: the bank goes on with the others and a warning
    Given a bank of 3 packs at 60 % SoC
    And the bridge setting "bms.onPackLost" is "degrade"
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    When pack 2 goes silent
    Then within 3500 ms the bridge reports pack "2" "stale"
    And the inverter sees charging and discharging enabled
    And the bridge log says "degraded: pack 2 left out"
    And the checker saw no invariant violation

  Scenario: One pack never answers with onPackLost degrade: the others start without it, with a warning; it joins when it answers
    Given a bank of 3 packs at 60 % SoC
    And the bridge setting "bms.onPackLost" is "degrade"
    And pack 2 goes silent
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    Then the inverter sees charging and discharging enabled
    And the bridge log says "degraded: pack 2 left out (no answer since the start)"
    When pack 2 answers again
    Then within 3000 ms the bridge reports pack "2" "connected"
    And the checker saw no invariant violation

  Scenario: One pack's BMS opens its charge MOSFET: the others keep charging
    Given a bank of 3 packs at 60 % SoC
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    When the inverter offers 3000 W of solar power
    And pack 2's BMS switches its charge MOSFET off
    Then pack 2 carries no charge current while the others charge
    And the inverter sees charging enabled
    And the checker saw no invariant violation

  Scenario: Packs at 30 % and 70 % SoC connected together exchange current; the bridge runs on
    Given a bank of packs at "30, 70" % SoC
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    Then the packs exchange current: pack 1 charges from pack 2
    And the inverter sees charging and discharging enabled
    And the checker saw no invariant violation

  Scenario: One pack's link flaps: short drops stay below the stale time, the bank stays connected
    Given a bank of 2 packs at 60 % SoC
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    When pack 2's link drops for 800 ms, 3 times
    Then the bridge never left bms "connected"
    And the checker saw no invariant violation

  Scenario: A pack whose JK is set for another chemistry faults the bank, naming the pack and the preset, until it is set back
    Given a bank of 3 packs at 60 % SoC
    And the bridge setting "state.silenceAfterMs" is "0"
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    When pack 2's BMS cell OVP setting is changed to 4200 mV
    Then within 3000 ms the bridge reports bms "fault.transmitting"
    And within 1000 ms the bridge log says "fault: pack 2: settings contradict: control.voltage.bulkCellMv (nmc preset): 4100 must be below control.chargeStopCellMv (3500)"
    When 3000 ms pass
    Then since the fault the inverter saw no charge or discharge current limit above 0 A
    When pack 2's BMS cell OVP setting is changed to 3650 mV
    Then within 5000 ms the bridge reports bms "connected"
    And the checker saw no invariant violation

  Scenario: check --probe reads every pack once: one line each, a silent pack named, nothing on CAN
    Given a bank of 3 packs at 60 % SoC
    And a "pylon-lv" inverter on the bus
    When the bridge probes the packs
    Then the probe exits with code 0
    And the probe reports pack "1" answering with 16 cells at 60 % SoC
    And the probe reports pack "3" answering with 16 cells at 60 % SoC
    And the probe says "battery chemistry lifepo4 (auto: bms.cellOvp 3650 mV, bms.cellUvp 2600 mV are lifepo4's)"
    When pack 2 goes silent
    And the bridge probes the packs
    Then the probe exits with code 1
    And the probe reports pack "2" silent
    And the probe reports pack "1" answering with 16 cells at 60 % SoC
    And the inverter heard nothing from the bridge

  Scenario: Closed-loop charge to full of four packs of spread capacity: no cell of any pack above its OVP
    Given a bank of "jk-16s-10ah" packs of "10, 12, 8, 10" Ah at 30 % SoC, its time running 90 times faster
    And the bridge setting "control.current.maxChargeA" is "20"
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    When the inverter offers 3000 W of solar power
    Then within 90000 ms every pack is full: SoC at least 95 % and the bank current below 2 A
    And no cell of any pack went above its overvoltage protection
    And the checker saw no invariant violation

  Scenario: Mirror mode: one watched pack stands for four, and the bridge says so
    Given a 16-cell battery at 60 % SoC
    And the bridge setting "bms.mirrorPacks" is "4"
    And a "sma-si" inverter on the bus
    And the bridge is running
    Then the inverter sees a capacity of 1120 Ah
    And the bridge log says "mirror mode: one pack watched for 4, 3 not watched"
    And the checker saw no invariant violation
