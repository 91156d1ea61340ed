Feature: Pylon HV inverters (request and response, 29-bit ids)
  A Deye/Sofar-style HV inverter polls 0x4200; the bridge answers each request from the same
  bus output as the broadcast profiles, never sends on its own, and honours sleep requests and
  charge/discharge commands only as far as they make it more conservative.

  Scenario: Happy path with a 24S pack
    Given the "jk-24s-200ah" battery at 50 % SoC
    And a "pylon-hv" inverter on the bus
    When the bridge is running
    And the inverter has had 3 answers
    Then the inverter sees the pack voltage of the battery within 0.1 V
    And the inverter sees the SoC of the battery
    And the inverter sees 24 cells in the equipment answer
    And the inverter sees charging and discharging enabled
    And the bridge reports the inverter link "alive"
    And the checker saw no invariant violation

  Scenario: Cell overvoltage stops charging in the next answer, with the charge-forbidden mark
    Given the "jk-24s-200ah" battery at 60 % SoC
    And a "pylon-hv" inverter on the bus
    And the bridge is running
    And the inverter has had 2 answers
    When cell 5 rises to 3520 mV
    Then within 1500 ms the inverter sees a charge current limit of 0 A
    And the inverter sees charging disabled
    And the inverter sees discharging enabled
    And the checker saw no invariant violation

  Scenario: BMS disconnect: zero limits and both directions forbidden, then no answers at all
    Given the "jk-24s-200ah" battery at 50 % SoC
    And a "pylon-hv" inverter on the bus
    And the bridge is running
    And the inverter has had 2 answers
    When the BMS goes silent
    Then within 3500 ms the bridge reports bms "stale"
    And the inverter sees a charge current limit of 0 A
    And the inverter sees a discharge current limit of 0 A
    And the inverter sees charging disabled
    And the inverter sees discharging disabled
    Then within 2500 ms the bridge reports bms "fault.transmitting"
    And the inverter sees the "systemError" alarm
    Then within 4000 ms the bus goes silent
    When the BMS answers again
    Then within 3000 ms the bridge reports bms "connected"
    And within 8000 ms the inverter sees a charge current limit of 50 A
    And the checker saw no invariant violation

  Scenario: The inverter stops asking and comes back
    Given the "jk-24s-200ah" battery at 50 % SoC
    And a "pylon-hv" inverter on the bus
    And the bridge is running
    Then within 3000 ms the bridge reports the inverter link "alive"
    When the inverter stops its heartbeat
    Then within 4000 ms the bridge reports the inverter link "silent"
    And the bridge sent nothing while the inverter was not asking
    When the inverter resumes its heartbeat
    Then within 3000 ms the bridge reports the inverter link "alive"
    And the inverter has had 2 answers
    And the checker saw no invariant violation

  Scenario: Sleep and wake
    Given the "jk-24s-200ah" battery at 50 % SoC
    And a "pylon-hv" inverter on the bus
    And the bridge is running
    And the inverter has had 2 answers
    When the inverter sends "hv sleep"
    Then within 1500 ms the inverter sees the battery asleep
    And the inverter sees a charge current limit of 0 A
    And the inverter sees a discharge current limit of 0 A
    And the bridge logged "asked the battery to sleep"
    When the inverter sends "hv charge"
    Then the inverter sees a charge current limit of 0 A for at least 1500 ms
    And the bridge logged "charge command from the inverter logged, not acted on"
    When the inverter sends "hv wake"
    Then within 1500 ms the inverter sees the battery awake
    And within 8000 ms the inverter sees a charge current limit of 50 A
    And the charge current limit rose through at least 2 intermediate values
    And the checker saw no invariant violation

  @native-speed
  Scenario: A request storm delays neither the BMS polling nor the reaction
    Given the "jk-24s-200ah" battery at 60 % SoC
    And a "pylon-hv" inverter on the bus
    And the bridge is running
    And the inverter has had 2 answers
    When the inverter sends "hv storm 900 3s"
    And cell 5 rises to 3520 mV
    Then within 1500 ms the inverter sees a charge current limit of 0 A
    And the BMS was polled on time during the last 2500 ms
    And the checker saw no invariant violation

  Scenario: A bridge set to the wrong byte order is caught by the inverter, not silently accepted
    Given the "jk-24s-200ah" battery at 50 % SoC
    And the bridge setting "can.pylonHv.byteOrder" is "be"
    And a "pylon-hv" inverter on the bus
    And the bridge is running
    Then within 3000 ms the checker flags "cell-range"
    And the checker flags "truth-mismatch"

  Scenario: Sofar HV at send group 1: the sofar preset answers it, the default preset is not heard
    Given the "jk-24s-200ah" battery at 50 % SoC
    And the bridge setting "can.pylonHv.preset" is "sofar"
    And a "sofar-hv" inverter on the bus
    When the bridge is running
    And the inverter has had 3 answers
    Then the inverter sees the pack voltage of the battery within 0.1 V
    And the bridge reports the inverter link "alive"
    And the checker saw no invariant violation

  Scenario: A Sofar HV inverter and a bridge left at send group 0 do not understand each other, visibly
    Given the "jk-24s-200ah" battery at 50 % SoC
    And a "sofar-hv" inverter on the bus
    And the bridge is running
    Then within 3000 ms the checker flags "unexpected-id"
    And within 12000 ms the inverter reports "battery communication fault"
