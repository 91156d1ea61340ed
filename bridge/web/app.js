// The bridge's page: plain JavaScript, no framework, no build step, nothing from the network but
// this server. Reads /api/stream (Server-Sent Events) and draws with SVG.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);
const state = { info: null, status: null, history: [], events: [], frames: [] };
const MAX_HISTORY = 5000;

function el(tag, attrs = {}, text) {
  const node = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

const fmt = (v, digits, unit) => (v === null || v === undefined ? '–' : `${Number(v).toFixed(digits)} ${unit}`);
const time = (ms) => new Date(ms).toLocaleTimeString();

function stateClass(region, value) {
  if (region === 'bms') return value === 'connected' ? 'good' : value === 'idle' ? 'idle' : value === 'stale' ? 'warn' : 'bad';
  if (region === 'inverter') return value === 'alive' ? 'good' : value === 'unknown' ? 'idle' : 'warn';
  return value === 'up' ? 'good' : value === 'opening' ? 'idle' : 'bad';
}

function renderStates(s) {
  for (const region of ['bms', 'inverter', 'can']) {
    const node = $(`state-${region}`);
    const value = s ? s.states[region] : '…';
    node.textContent = `${region} ${value}`;
    node.dataset.state = value;
    node.className = `state ${s ? stateClass(region, value) : ''}`;
  }
  const faults = $('faults');
  faults.hidden = !s || s.faults.length === 0;
  faults.textContent = s ? s.faults.join(' · ') : '';
}

/** Each pack: its values, then its cells (several packs: one block each, titled by name). */
function renderPack(s) {
  const container = $('packs');
  const packs = s ? s.packs : [];
  if (packs.length === 0) {
    container.replaceChildren(el('p', { class: 'note' }, 'no BMS data yet'));
    return;
  }
  container.replaceChildren(...packs.map((pack) => packBlock(pack, packs.length > 1)));
}

function packBlock(pack, titled) {
  const block = el('div', { class: 'pack', 'data-pack': pack.id });
  if (titled) block.append(el('h3', {}, `Pack ${pack.name}`));
  const values = el('div', { class: 'values' });
  const items = [
    ['Voltage', fmt(pack.voltageV, 2, 'V')],
    ['Current', fmt(pack.currentA, 1, 'A')],
    ['Power', fmt(pack.powerW, 0, 'W')],
    ['SoC', fmt(pack.socPct, 0, '%')],
    ['MOSFET', fmt(pack.temperaturesC.mosfet, 0, '°C')],
    ['T1 / T2', `${pack.temperaturesC.battery1} / ${pack.temperaturesC.battery2} °C`],
    ['Cycles', String(pack.cycles)],
    ['MOSFETs', `${pack.chargeMosfet ? 'C' : '–'}${pack.dischargeMosfet ? 'D' : '–'}${pack.balancing ? ' balancing' : ''}`],
  ];
  for (const [label, value] of items) {
    const box = el('div', { class: 'value' });
    box.append(el('span', { class: 'label' }, label), el('span', { class: 'number' }, value));
    values.append(box);
  }
  const svg = el('svg:svg', { class: 'cells', role: 'img', 'aria-label': `cell voltages of pack ${pack.name}` });
  renderCells(svg, pack);
  const summary = el('p', { class: 'note' },
    `min ${(pack.cellMinMv / 1000).toFixed(3)} V (cell ${pack.cellMinNumber}) · max ${(pack.cellMaxMv / 1000).toFixed(3)} V (cell ${pack.cellMaxNumber}) · Δ ${pack.cellDeltaMv} mV` +
    (pack.alarms.length ? ` · BMS alarms: ${pack.alarms.join(', ')}` : ''));
  block.append(values, svg, summary);
  return block;
}

/** Cells as bars on a fixed LiFePO4-friendly scale, the lowest and highest marked. */
function renderCells(svg, pack) {
  const n = pack.cellsMv.length;
  const width = Math.max(320, n * 28);
  const height = 170;
  const top = 18;
  const bottom = 30;
  const lo = Math.min(2500, pack.cellMinMv - 50);
  const hi = Math.max(3650, pack.cellMaxMv + 50);
  const y = (mv) => top + (height - top - bottom) * (1 - (mv - lo) / (hi - lo));
  const slot = width / n;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.replaceChildren();
  for (const mv of [lo, (lo + hi) / 2, hi]) {
    svg.append(el('svg:line', { x1: 0, x2: width, y1: y(mv), y2: y(mv), class: 'grid' }));
  }
  pack.cellsMv.forEach((mv, i) => {
    const isMin = i + 1 === pack.cellMinNumber;
    const isMax = i + 1 === pack.cellMaxNumber && pack.cellDeltaMv > 0;
    const cls = `cell-bar${isMin ? ' min' : ''}${isMax ? ' max' : ''}`;
    const x = i * slot + slot * 0.15;
    const bar = el('svg:rect', { x, y: y(mv), width: slot * 0.7, height: Math.max(1, height - bottom - y(mv)), class: cls, 'data-cell': i + 1, 'data-mv': mv });
    bar.append(el('svg:title', {}, `cell ${i + 1}: ${(mv / 1000).toFixed(3)} V`));
    svg.append(bar);
    svg.append(el('svg:text', { x: x + slot * 0.35, y: height - bottom + 12, class: 'cell-label' }, String(i + 1)));
    svg.append(el('svg:text', { x: x + slot * 0.35, y: Math.max(10, y(mv) - 4), class: `cell-value${isMin ? ' min' : ''}${isMax ? ' max' : ''}` }, (mv / 1000).toFixed(3)));
  });
  svg.append(el('svg:text', { x: 2, y: height - 4, class: 'axis' }, `${(lo / 1000).toFixed(2)} V … ${(hi / 1000).toFixed(2)} V`));
}

function renderLimits(s) {
  const l = s && s.limits;
  $('limit-cvl').textContent = l ? fmt(l.chargeVoltageV, 2, 'V') : '–';
  $('limit-ccl').textContent = l ? fmt(l.chargeCurrentA, 1, 'A') : '–';
  $('limit-dcl').textContent = l ? fmt(l.dischargeCurrentA, 1, 'A') : '–';
  $('limit-dvl').textContent = l ? fmt(l.dischargeVoltageV, 2, 'V') : '–';
  $('limit-soc').textContent = l ? fmt(l.socPct, 0, '%') : '–';
  $('reason-cvl').textContent = l ? l.reasons.chargeVoltage : 'nothing sent';
  $('reason-ccl').textContent = l ? l.reasons.chargeCurrent : '';
  $('reason-dcl').textContent = l ? l.reasons.dischargeCurrent : '';
  const flags = $('flags');
  flags.replaceChildren();
  const flag = (name, on, id) => flags.append(el('span', { class: `flag ${on ? 'on' : 'off'}`, id, 'data-on': on }, `${name} ${on ? 'yes' : 'no'}`));
  flag('charge allowed', !!(l && l.chargeAllowed), 'flag-charge');
  flag('discharge allowed', !!(l && l.dischargeAllowed), 'flag-discharge');
  flag('force charge', !!(l && l.forceCharge), 'flag-force');
  const alarms = s ? [...s.alarms.map((a) => `alarm ${a}`), ...s.warnings.map((w) => `warning ${w}`)] : [];
  $('alarms').textContent = alarms.length ? alarms.join(' · ') : 'no alarms';
  const active = $('active-commands');
  const commands = s ? Object.entries(s.commands).filter(([, c]) => c) : [];
  active.textContent = commands.length
    ? `active: ${commands.map(([k, c]) => `${k} until ${time(c.untilMs)} (${c.source})`).join(' · ')}`
    : 'no active command';
}

/** One SVG line chart; series: [{values: [[t, v]], cls}]. */
function lineChart(svg, series, digits) {
  const width = 300;
  const height = 120;
  const left = 36;
  const pad = 6;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.replaceChildren();
  const points = series.flatMap((s) => s.values);
  if (series.every((s) => s.values.length < 2)) {
    svg.append(el('svg:text', { x: width / 2, y: height / 2, class: 'axis middle' }, 'collecting…'));
    return;
  }
  const t0 = Math.min(...points.map((p) => p[0]));
  const t1 = Math.max(...points.map((p) => p[0]));
  let v0 = Math.min(...points.map((p) => p[1]));
  let v1 = Math.max(...points.map((p) => p[1]));
  if (v1 - v0 < 1e-6) { v0 -= 1; v1 += 1; }
  const x = (t) => left + ((width - left - pad) * (t - t0)) / Math.max(1, t1 - t0);
  const y = (v) => pad + ((height - 2 * pad - 12) * (v1 - v)) / (v1 - v0);
  svg.append(el('svg:text', { x: 2, y: y(v1) + 8, class: 'axis' }, v1.toFixed(digits)));
  svg.append(el('svg:text', { x: 2, y: y(v0), class: 'axis' }, v0.toFixed(digits)));
  svg.append(el('svg:text', { x: left, y: height - 1, class: 'axis' }, time(t0)));
  svg.append(el('svg:text', { x: width - pad, y: height - 1, class: 'axis end' }, time(t1)));
  for (const s of series) {
    const d = s.values.map(([t, v], i) => `${i ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join('');
    svg.append(el('svg:path', { d, class: `line ${s.cls}` }));
  }
}

function renderCharts() {
  const h = state.history;
  const pick = (f) => h.filter((p) => p[f] !== null).map((p) => [p.atMs, p[f]]);
  lineChart($('chart-voltage'), [{ values: pick('voltageV'), cls: 'voltage' }], 2);
  lineChart($('chart-current'), [{ values: pick('currentA'), cls: 'current' }], 1);
  lineChart($('chart-soc'), [{ values: pick('socPct'), cls: 'soc' }], 0);
  lineChart($('chart-limits'), [{ values: pick('chargeCurrentA'), cls: 'ccl' }, { values: pick('dischargeCurrentA'), cls: 'dcl' }], 0);
  $('history-span').textContent = h.length ? `${h.length} sample${h.length === 1 ? '' : 's'} since ${time(h[0].atMs)}` : '';
}

function renderEvents() {
  const list = $('events');
  list.replaceChildren(...state.events.slice(-30).reverse().map((e) => el('li', { class: e.level }, `${time(e.atMs)} ${e.text}`)));
}

function renderFrames() {
  $('frames').replaceChildren(
    ...state.frames.slice().reverse().map((f) => {
      const row = el('tr');
      row.append(el('td', {}, time(f.atMs)), el('td', { class: 'mono' }, f.id), el('td', { class: 'mono' }, f.data.replace(/(..)/g, '$1 ').trim()));
      return row;
    }),
  );
}

function renderAll() {
  const s = state.status;
  renderStates(s);
  renderPack(s);
  renderLimits(s);
  renderCharts();
  renderEvents();
  renderFrames();
}

async function sendCommand(command) {
  const body = { command };
  if (['deny-charge', 'deny-discharge', 'force-charge'].includes(command)) body.expiresInS = Number($('expiry').value);
  const result = $('command-result');
  try {
    const res = await fetch('/api/command', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${$('token').value}` },
      body: JSON.stringify(body),
    });
    const answer = await res.json();
    result.textContent = answer.ok ? `${command}: accepted (applied with the next BMS reading)` : `${command}: refused: ${answer.reason}`;
  } catch (err) {
    result.textContent = `${command}: ${err.message}`;
  }
}

function connect() {
  const source = new EventSource('/api/stream');
  const live = $('live');
  source.addEventListener('open', () => { live.textContent = 'live'; live.className = 'live on'; });
  source.addEventListener('error', () => { live.textContent = 'reconnecting…'; live.className = 'live off'; });
  source.addEventListener('hello', (e) => {
    const d = JSON.parse(e.data);
    state.info = d;
    state.status = d.status;
    state.history = d.history;
    state.events = d.events;
    state.frames = d.frames;
    $('name').textContent = `JK CAN bridge ${d.name}`;
    document.title = `JK CAN bridge ${d.name}`;
    $('commands-card').hidden = !d.commands;
    renderAll();
  });
  source.addEventListener('status', (e) => {
    state.status = JSON.parse(e.data);
    renderStates(state.status);
    renderPack(state.status);
    renderLimits(state.status);
  });
  source.addEventListener('frames', (e) => { state.frames = JSON.parse(e.data); renderFrames(); });
  source.addEventListener('sample', (e) => {
    state.history.push(JSON.parse(e.data));
    if (state.history.length > MAX_HISTORY) state.history.shift();
    renderCharts();
  });
  source.addEventListener('event', (e) => {
    state.events.push(JSON.parse(e.data));
    if (state.events.length > 100) state.events.shift();
    renderEvents();
  });
}

document.addEventListener('DOMContentLoaded', () => {
  const token = $('token');
  token.value = sessionStorage.getItem('jk-can-bridge-token') || '';
  token.addEventListener('change', () => sessionStorage.setItem('jk-can-bridge-token', token.value));
  for (const button of document.querySelectorAll('button[data-command]')) button.addEventListener('click', () => sendCommand(button.dataset.command));
  renderAll();
  connect();
});
