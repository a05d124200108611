/* The devnet dashboard: polls /dashboard/state once a second and draws it (uPlot for the charts). */

const POLL_MS = 1000;
const TPS_WINDOW = 120;
const $ = (id) => document.getElementById(id);
const short = (hex) => `${hex.slice(0, 10)}…`;

let finalityPlot = null;
let tpsPlot = null;
const tpsX = [];
const tpsY = [];
let last = null;
let lastTop = -1;

function chartWidth(el) {
  return Math.max(300, el.parentElement.clientWidth - 24);
}

function drawFinality(finality) {
  // Cumulative Prometheus buckets → per-bucket counts, labelled by their upper bound in ms.
  const labels = [];
  const counts = [];
  let prev = 0;
  for (const b of finality.buckets) {
    labels.push(b.le === '+Inf' ? '∞' : `${Math.round(Number(b.le) * 1000)}`);
    counts.push(b.count - prev);
    prev = b.count;
  }
  const xs = labels.map((_, i) => i);
  const el = $('finality-chart');
  if (!finalityPlot) {
    finalityPlot = new uPlot(
      {
        width: chartWidth(el),
        height: 220,
        legend: { show: false },
        scales: {
          x: { time: false, range: [-0.5, labels.length - 0.5] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
        },
        axes: [
          {
            stroke: '#9fb0c3',
            values: (_u, splits) =>
              splits.map((i) => (Number.isInteger(i) && labels[i] ? `≤${labels[i]}` : '')),
            label: 'ms',
            labelSize: 20,
          },
          { stroke: '#9fb0c3' },
        ],
        series: [
          {},
          {
            label: 'transactions',
            fill: '#3b82f6aa',
            stroke: '#3b82f6',
            paths: uPlot.paths.bars({ size: [0.7, 60] }),
            points: { show: false },
          },
        ],
      },
      [xs, counts],
      el,
    );
  } else finalityPlot.setData([xs, counts]);
  $('finality-count').textContent = String(finality.count);
  // Median: the first bucket whose cumulative count reaches half.
  const half = finality.count / 2;
  const m = finality.buckets.find((b) => b.count >= half && finality.count > 0);
  $('finality-median').textContent = m
    ? m.le === '+Inf'
      ? '> max'
      : `≤ ${Math.round(Number(m.le) * 1000)} ms`
    : '–';
}

function drawTps(state) {
  if (last) {
    const dt = (state.nowMs - last.nowMs) / 1000;
    const rate = dt > 0 ? (state.tx.finalized - last.tx.finalized) / dt : 0;
    tpsX.push(state.nowMs / 1000);
    tpsY.push(Math.max(0, Math.round(rate * 10) / 10));
    if (tpsX.length > TPS_WINDOW) {
      tpsX.shift();
      tpsY.shift();
    }
    $('tps').textContent = String(tpsY[tpsY.length - 1]);
  }
  if (tpsX.length < 2) return;
  const el = $('tps-chart');
  if (!tpsPlot) {
    tpsPlot = new uPlot(
      {
        width: chartWidth(el),
        height: 220,
        legend: { show: false },
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [{ stroke: '#9fb0c3' }, { stroke: '#9fb0c3' }],
        series: [{}, { label: 'tx/s', stroke: '#22c55e', width: 2, fill: '#22c55e22' }],
      },
      [tpsX, tpsY],
      el,
    );
  } else tpsPlot.setData([tpsX, tpsY]);
}

function drawBlocks(state) {
  const body = $('blocks').querySelector('tbody');
  const rows = state.blocks.slice(-15).reverse();
  body.replaceChildren(
    ...rows.map((b) => {
      const tr = document.createElement('tr');
      if (b.height > lastTop && lastTop >= 0) tr.className = 'new';
      tr.dataset.height = String(b.height);
      for (const v of [
        b.height,
        b.slot,
        short(b.producer),
        b.rank,
        b.txCount,
        `${Math.max(0, Math.round((state.nowMs - b.receivedMs) / 1000))} s`,
      ]) {
        const td = document.createElement('td');
        td.textContent = String(v);
        tr.appendChild(td);
      }
      return tr;
    }),
  );
  if (rows.length > 0) lastTop = Math.max(lastTop, rows[0].height);
}

function drawPeers(state) {
  $('node-id').textContent = `node ${short(state.node.id)} (${state.node.role})`;
  $('peer-count').textContent = String(state.peers.length);
  const body = $('peers').querySelector('tbody');
  body.replaceChildren(
    ...state.peers.map((p) => {
      const tr = document.createElement('tr');
      for (const v of [
        short(p.id),
        p.addr,
        p.inbound ? 'in' : 'out',
        p.masternode ? 'yes' : 'no',
        p.height,
      ]) {
        const td = document.createElement('td');
        td.textContent = String(v);
        tr.appendChild(td);
      }
      return tr;
    }),
  );
}

function drawSummary(state) {
  $('height').textContent = String(state.chain.height);
  $('slot').textContent = String(state.chain.slot);
  $('finalized').textContent = String(state.tx.finalized);
  $('mempool').textContent = `${state.mempool.size} (${state.mempool.processing} polling)`;
  const b = state.beacon;
  $('beacon').textContent = b.evaluating
    ? `evaluating slot ${b.evaluating.slot} (${b.evaluating.runningMs} ms)`
    : b.lastSlot >= 0
      ? `slot ${b.lastSlot} done`
      : 'waiting';
}

async function poll() {
  try {
    const res = await fetch('/dashboard/state', { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const state = await res.json();
    drawSummary(state);
    drawBlocks(state);
    drawPeers(state);
    drawFinality(state.finality);
    drawTps(state);
    last = state;
    $('status').textContent = 'live';
    $('status').className = 'ok';
  } catch {
    // The node is restarting or stopped: say so and keep trying (no console noise).
    $('status').textContent = 'node unreachable';
    $('status').className = 'down';
  }
  setTimeout(poll, POLL_MS);
}

poll();
