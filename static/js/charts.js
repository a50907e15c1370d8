// Draw the plotly figures that webui/charts.py builds, as islands initialised on htmx.onLoad.
//
// Markup: <div class="chart" data-figure="ID" data-label="..." data-filename="..."></div>
// next to the figure JSON from Django's json_script: <script type="application/json" id="ID">.
// Needs the vendored plotly.js (window.Plotly) loaded first; htmx 2 is optional.
"use strict";

(() => {
  // base.html loads this on every page and some pages load it again: run once.
  if (window.advisorCharts) return;
  window.advisorCharts = true;
  // Where plotly.js is, for pages that did not load it themselves (a saved review, say): it is
  // fetched (same origin, so the CSP allows it) only when a chart is about to be drawn.
  const PLOTLY_SRC = document.currentScript ? document.currentScript.dataset.plotly : "";
  let plotlyLoading = null;

  function withPlotly(callback) {
    if (typeof Plotly !== "undefined") return callback();
    const ready = document.querySelector("script[src*='plotly-basic']");
    if (!plotlyLoading) {
      plotlyLoading = new Promise((resolve, reject) => {
        let script = ready;
        if (!script && PLOTLY_SRC) {
          script = document.createElement("script");
          script.src = PLOTLY_SRC;
          document.head.appendChild(script);
        }
        if (!script) return reject(new Error("plotly.js is not loaded"));
        script.addEventListener("load", resolve);
        script.addEventListener("error", () => reject(new Error("plotly.js could not be loaded")));
      });
    }
    return plotlyLoading.then(() => {
      if (typeof Plotly === "undefined") throw new Error("plotly.js is not loaded");
      return callback();
    });
  }

  const DARK = window.matchMedia("(prefers-color-scheme: dark)");
  const FONT = { dark: "#d4d4d4", light: "#333333" };
  const SELECTOR = "div.chart[data-figure]";

  // A page may force a scheme with <html data-theme="dark|light">; else follow the system.
  function isDark() {
    const forced = document.documentElement.dataset.theme;
    if (forced === "dark" || forced === "light") return forced === "dark";
    return DARK.matches;
  }

  function fontColour() {
    return isDark() ? FONT.dark : FONT.light;
  }

  function chartsIn(root) {
    const found = root.querySelectorAll ? Array.from(root.querySelectorAll(SELECTOR)) : [];
    if (root.matches && root.matches(SELECTOR)) found.unshift(root);
    return found;
  }

  function readFigure(id) {
    const source = document.getElementById(id);
    if (!source) throw new Error(`no figure data #${id}`);
    const fig = JSON.parse(source.textContent);
    if (!fig || !Array.isArray(fig.data)) throw new Error(`#${id} is not a figure`);
    return fig;
  }

  function configFor(div) {
    return {
      responsive: true,
      displaylogo: false,
      toImageButtonOptions: { format: "png", filename: div.dataset.filename || "chart" },
      modeBarButtonsToRemove: ["select2d", "lasso2d"],
    };
  }

  function draw(div) {
    if (div.dataset.drawn) return;
    div.dataset.drawn = "pending";
    div.setAttribute("role", "img");
    if (div.dataset.label) div.setAttribute("aria-label", div.dataset.label);
    if (typeof Plotly === "undefined") {
      Promise.resolve(withPlotly(() => plot(div))).catch((err) => fail(div, err));
      return;
    }
    plot(div);
  }

  function plot(div) {
    let fig;
    try {
      fig = readFigure(div.dataset.figure);
    } catch (err) {
      fail(div, err);
      return;
    }
    const layout = fig.layout || {};
    layout.font = { ...(layout.font || {}), color: fontColour() };
    Plotly.newPlot(div, fig.data, layout, configFor(div)).then(
      () => {
        div.dataset.drawn = "1";
        drawKey(div, layout.meta && layout.meta.segment_styles);
      },
      (err) => fail(div, err),
    );
  }

  // The segment styles of a Gantt chart, as a key under it (webui/charts.py puts them in
  // layout.meta: [label (HTML-escaped for plotly), pattern shape, outline colour]).
  const SHAPES = { "": "solid", ".": "dots", "/": "slant", "x": "cross", "-": "lines" };

  function drawKey(div, styles) {
    if (!Array.isArray(styles) || !styles.length) return;
    const old = div.nextElementSibling;
    if (old && old.classList.contains("chart-key")) old.remove();
    const list = document.createElement("ul");
    list.className = "chart-key";
    list.setAttribute("aria-label", "Segment styles");
    for (const [label, shape, outline] of styles) {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = `swatch ${SHAPES[shape] || "solid"}${outline ? " outlined" : ""}`;
      swatch.setAttribute("aria-hidden", "true");
      const text = document.createElement("span");
      // plotly labels are HTML-escaped; read them back as text, never as HTML.
      text.textContent = new DOMParser().parseFromString(label, "text/html").documentElement.textContent;
      item.append(swatch, text);
      list.append(item);
    }
    div.after(list);
  }

  function fail(div, err) {
    div.dataset.drawn = "error";
    div.textContent = "This chart could not be drawn.";
    console.error("chart", div.dataset.figure, err);
  }

  function drawAll(root) {
    chartsIn(root).forEach(draw);
  }

  function purge(root) {
    chartsIn(root).forEach((div) => {
      if (!div.dataset.drawn) return;
      if (typeof Plotly !== "undefined") Plotly.purge(div);
      delete div.dataset.drawn;
    });
  }

  function recolour() {
    const color = fontColour();
    document.querySelectorAll(`${SELECTOR}[data-drawn="1"]`).forEach((div) => {
      Plotly.relayout(div, { "font.color": color });
    });
  }

  // Swap styles that replace the target's content or the target itself.
  const REPLACING = new Set(["innerHTML", "outerHTML", "delete"]);

  function swapStyle(detail) {
    const spec = detail.swapOverride || closestAttr(detail.elt, "hx-swap") || "";
    const style = spec.split(/\s+/)[0];
    return style || (htmx.config && htmx.config.defaultSwapStyle) || "innerHTML";
  }

  function closestAttr(elt, name) {
    const holder = elt && elt.closest ? elt.closest(`[${name}],[data-${name}]`) : null;
    return holder ? holder.getAttribute(name) || holder.getAttribute(`data-${name}`) : null;
  }

  function onBeforeSwap(evt) {
    const detail = evt.detail || {};
    if (!detail.shouldSwap || !detail.target) return;
    if (REPLACING.has(swapStyle(detail))) purge(detail.target);
  }

  DARK.addEventListener("change", recolour);
  new MutationObserver(recolour).observe(document.documentElement, {
    attributes: true,
    attributeFilter: ["data-theme"],
  });

  if (typeof htmx !== "undefined") {
    htmx.onLoad(drawAll);
    // htmx reports the initial page on load; if that already happened, draw what is there now.
    if (document.readyState !== "loading") drawAll(document);
    document.addEventListener("htmx:beforeSwap", onBeforeSwap);
    // Anything else htmx removes (out-of-band swaps, hx-swap="delete") is cleaned up one by one.
    document.addEventListener("htmx:beforeCleanupElement", (evt) => purge(evt.target));
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => drawAll(document));
  } else {
    drawAll(document);
  }
})();
