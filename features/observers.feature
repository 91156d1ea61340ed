Feature: MQTT, Home Assistant and the web page
  People watch the battery in Home Assistant and in a browser. What the bridge publishes and
  serves comes from a real broker (Debian's mosquitto) and a real browser (Debian's chromium);
  neither can delay the CAN side, and commands only ever make the bridge more conservative.

  Scenario: The broker holds the state, dies, comes back empty and gets everything again
    Given a 16-cell battery at 60 % SoC
    And an MQTT broker the bridge publishes to
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    Then within 3000 ms the broker holds the bridge state with bms "connected"
    And the broker holds every cell of the pack and the Home Assistant discovery
    When the MQTT broker dies
    And 4000 ms pass
    And the MQTT broker comes back without its retained messages
    Then within 5000 ms the broker holds everything again
    And the inverter heard a frame set every period while the broker was away
    And the checker saw no invariant violation

  Scenario: A hung broker does not slow the CAN side, and hears the latest state when it recovers
    Given a 16-cell battery at 60 % SoC
    And an MQTT broker the bridge publishes to
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    Then within 3000 ms the broker holds the bridge state with bms "connected"
    When the MQTT broker hangs
    And cell 5 rises to 3600 mV
    Then within 1500 ms the inverter sees a charge current limit of 0 A
    When 4000 ms pass
    And the MQTT broker recovers
    Then within 5000 ms the broker holds the bridge state with a charge current limit of 0 A
    And the inverter heard a frame set every period while the broker was hung
    And the checker saw no invariant violation

  Scenario: A dead bridge shows as unavailable (the last will)
    Given a 16-cell battery at 60 % SoC
    And an MQTT broker the bridge publishes to
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    Then within 3000 ms the broker holds the bridge state with bms "connected"
    When the bridge process is killed
    Then within 3000 ms the broker says the bridge is offline

  Scenario: An MQTT command denies charging on the bus, and a bad one changes nothing
    Given a 16-cell battery at 60 % SoC
    And an MQTT broker the bridge publishes to
    And the bridge accepts MQTT commands
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    Then the inverter sees charging and discharging enabled
    When an MQTT client sends the bridge the command "{\"command\":\"charge-faster\",\"id\":\"bad\"}"
    Then within 2000 ms the bridge answers "unknown command"
    And the inverter sees charging and discharging enabled
    When an MQTT client sends the bridge the command "{\"command\":\"deny-charge\",\"expiresInS\":600,\"id\":\"c1\"}"
    Then within 2000 ms the bridge answers "\"ok\":true"
    And within 1500 ms the inverter sees a charge current limit of 0 A
    And the inverter sees charging disabled
    And the inverter sees discharging enabled
    And within 3000 ms the broker holds the bridge state with a charge current limit of 0 A
    And the checker saw no invariant violation

  Scenario: Commands are off by default
    Given a 16-cell battery at 60 % SoC
    And an MQTT broker the bridge publishes to
    And a "pylon-lv" inverter on the bus
    And the bridge is running
    When an MQTT client sends the bridge the command "{\"command\":\"deny-charge\",\"expiresInS\":600}"
    Then no answer comes within 2000 ms
    And the inverter sees charging and discharging enabled

  @native-speed
  Scenario: The page shows the cells, the limits and the states change live when a fault comes
    Given a 16-cell battery at 60 % SoC
    And a "pylon-lv" inverter on the bus
    And the bridge serves its web page on a free port
    And the bridge is running
    And a headless browser shows the bridge's page
    Then within 3000 ms the page shows bms "connected"
    And within 3000 ms the page shows can "up"
    And the page shows 16 cell bars
    And within 3000 ms the page shows a charge current limit above 0 A
    And the page lists the CAN frames sent, with id 351 among them
    When the inverter offers 2000 W of solar power
    And 4000 ms pass
    And cell 5 rises to 3600 mV
    Then within 3000 ms the page shows a charge current limit of 0 A
    And the page marks cell 5 as the highest
    And the page gives the charge current reason "cell"
    And the page shows charging stopped
    When 2000 ms pass
    Then a screenshot of the page is saved
    When the BMS goes silent
    Then within 5000 ms the page shows bms "stale"
    And within 5000 ms the page shows bms "fault"
    And the page lists a recent event saying "bms fault"
    And the checker saw no invariant violation

  @native-speed
  Scenario: A command from the page reaches the bus
    Given a 16-cell battery at 60 % SoC
    And a "pylon-lv" inverter on the bus
    And the bridge serves its web page on a free port
    And the bridge accepts commands from its web page
    And the bridge is running
    And a headless browser shows the bridge's page
    Then the inverter sees charging and discharging enabled
    When a person denies discharging on the page for 15 min
    Then within 1500 ms the inverter sees a discharge current limit of 0 A
    And the inverter sees discharging disabled
    And the inverter sees charging enabled
    And the page lists a recent event saying "command deny-discharge for 900 s from web"
    And the checker saw no invariant violation
