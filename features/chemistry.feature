Feature: Chemistry-aware limits and each inverter's own rules
  The bridge reads the cell chemistry from the JK's own OVP/UVP settings, takes every voltage
  point from that chemistry's preset unless it is configured, and refuses to pass limits while a
  point contradicts the BMS's protection window. Each virtual inverter enforces its real
  counterpart's rules: the Sunny Island's DVL range and 200 ms inhibit time, Sofar's "0 A is
  ignored".

  Scenario Outline: An NMC 14S pack is charged to full and discharged on <inverter>
    Given the "jk-14s-nmc-10ah" battery at 20 % SoC, its time running 90 times faster
    And the bridge setting "control.current.maxChargeA" is "20"
    And the bridge setting "control.current.maxDischargeA" is "20"
    And a "<inverter>" inverter on the bus
    And the bridge is running
    Then within 5000 ms the bridge log says "battery chemistry nmc (auto: bms.cellOvp 4200 mV, bms.cellUvp 3000 mV are nmc's)"
    When the inverter offers 3000 W of solar power
    Then within 60000 ms the battery is full: the highest cell at least 4050 mV and the charge current below 2 A
    And no cell went above its overvoltage protection
    When the inverter draws 2500 W for the house
    # The NMC preset's discharge table tapers from 3.45 V (about 10 % SoC): nearly empty is there.
    Then within 120000 ms the pack is nearly empty: SoC at most 12 %
    And no cell went below its undervoltage protection
    And the checker saw no invariant violation

    Examples:
      | inverter |
      | sma-si   |
      | victron  |

  Scenario: A configuration whose points contradict each other is refused with its line
    Given the "jk-16s-280ah" battery at 50 % SoC
    And the bridge setting "battery.chemistry" is "lifepo4"
    And the bridge setting "control.voltage.floatCellMv" is "3500"
    Then the bridge refuses its configuration with the line "control.voltage.floatCellMv: 3500 must not exceed control.voltage.bulkCellMv (3450)"

  Scenario: A BMS whose OVP falls to the charge stop is a fault with its line, zero limits until fixed
    Given a 16-cell battery at 50 % SoC
    And the bridge setting "state.silenceAfterMs" is "0"
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    When the BMS cell OVP setting is changed to 3450 mV
    Then within 3000 ms the bridge reports bms "fault.transmitting"
    And within 1000 ms the bridge log says "settings contradict: bms.cellOvp 3450 mV <= control.chargeStopCellMv 3500 mV"
    When 3000 ms pass
    Then since the fault the inverter saw no charge or discharge current limit above 0 A
    When the BMS cell OVP setting is changed to 3650 mV
    Then within 5000 ms the bridge reports bms "connected"
    And the checker saw no invariant violation

  Scenario: A JK with UVP 3.0 V on a Sunny Island: DVL stays inside 41-48 V
    Given the "jk-16s-uvp3v-280ah" battery at 50 % SoC
    And a "sma-si" inverter on the bus
    And the bridge is running
    When the inverter has heard 3 frame sets
    Then the inverter uses a discharge voltage limit of 48.0 V
    And every DVL the inverter saw was between 41.0 V and 48.0 V
    And the checker saw no invariant violation

  Scenario: A cell runaway on a Sunny Island lowers CCL without breaking the 200 ms rule
    Given a 16-cell battery at 60 % SoC
    And a "sma-si" inverter on the bus
    And the bridge is running
    When cell 5 rises to 3520 mV right after a frame set
    Then within 1000 ms the inverter sees a charge current limit of 0 A
    When cell 5 returns to normal
    Then within 8000 ms the inverter sees a charge current limit of 50 A
    When cell 5 rises to 3520 mV right after a frame set
    Then within 1000 ms the inverter sees a charge current limit of 0 A
    When cell 5 returns to normal
    Then within 8000 ms the inverter sees a charge current limit of 50 A
    When cell 5 rises to 3520 mV right after a frame set
    Then within 1000 ms the inverter sees a charge current limit of 0 A
    And the checker saw no invariant violation

  # The BMS stops charging on its own (here its charge MOSFET); the bridge says so with CCL 0 A,
  # which a Sofar ignores: it keeps pushing current at a battery that refuses it.
  Scenario: A Sofar keeps charging when told 0 A
    Given a 16-cell battery at 60 % SoC
    And a "sofar" inverter on the bus
    And the bridge is running
    When the inverter offers 2000 W of solar power
    Then within 3000 ms the battery is charging
    When the BMS switches its charge MOSFET off
    Then within 1000 ms the inverter sees a charge current limit of 0 A
    And the battery keeps charging for 2000 ms
    And the checker flagged "zero-ignored" and nothing else

  Scenario: With control.stop.currentA 0.1 the stop reaches 0x351 and the Sofar stops
    Given a 16-cell battery at 60 % SoC
    And the bridge setting "control.stop.currentA" is "0.1"
    And a "sofar" inverter on the bus
    And the bridge is running
    When the inverter offers 2000 W of solar power
    Then within 3000 ms the battery is charging
    When the BMS switches its charge MOSFET off
    Then within 1000 ms the inverter sees a charge current limit of 0.1 A
    And within 2000 ms the battery current is at most 0.1 A
    And the checker saw no invariant violation
