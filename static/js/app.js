// Progressive enhancement for the analyser: everything works without it.
(function () {
  "use strict";

  const ACCEPTED = /\.(ya?ml|json)$/i;

  function textarea() {
    return document.querySelector("#analyze-form:not([hidden]) textarea[name=manifest]");
  }

  function renderGutter(editor) {
    const area = editor.querySelector("textarea");
    const gutter = editor.querySelector(".gutter");
    if (!area || !gutter) return;
    const count = area.value.split("\n").length;
    let text = "";
    for (let i = 1; i <= count; i++) text += i + "\n";
    gutter.textContent = text;
    gutter.scrollTop = area.scrollTop;
  }

  function loadFile(file, area) {
    if (!ACCEPTED.test(file.name)) {
      alert("Choose a .yaml, .yml or .json file.");
      return;
    }
    const reader = new FileReader();
    reader.onload = () => {
      area.value = reader.result;
      area.dispatchEvent(new Event("input"));
    };
    reader.readAsText(file);
  }

  const DRAFT_KEY = "pod-advisor:manifest-draft";

  function setupEditor(editor) {
    if (editor.dataset.ready) return;
    editor.dataset.ready = "1";
    const area = editor.querySelector("textarea");
    if (!area.closest("#analyze-form")) {
      // Another editor (a review's): line numbers, and Ctrl+Enter previews instead of saving.
      renderGutter(editor);
      area.addEventListener("input", () => renderGutter(editor));
      area.addEventListener("scroll", () => { editor.querySelector(".gutter").scrollTop = area.scrollTop; });
      area.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
          event.preventDefault();
          const preview = area.form && area.form.querySelector("[data-preview]");
          if (preview) preview.click();
        }
      });
      return;
    }
    // Keep the draft in this tab, so a log-in or an accidental reload does not lose it.
    if (!area.value) {
      const draft = sessionStorage.getItem(DRAFT_KEY);
      if (draft) area.value = draft;
    }
    renderGutter(editor);
    area.addEventListener("input", () => {
      renderGutter(editor);
      try { sessionStorage.setItem(DRAFT_KEY, area.value); } catch (e) { /* storage full */ }
    });
    area.addEventListener("scroll", () => { editor.querySelector(".gutter").scrollTop = area.scrollTop; });
    area.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        area.form.requestSubmit();
      }
    });
    editor.addEventListener("dragover", (event) => { event.preventDefault(); editor.classList.add("dragging"); });
    editor.addEventListener("dragleave", () => editor.classList.remove("dragging"));
    editor.addEventListener("drop", (event) => {
      event.preventDefault();
      editor.classList.remove("dragging");
      const file = event.dataTransfer.files[0];
      if (file) loadFile(file, area);
    });
    const upload = area.form.querySelector("input[type=file]");
    if (upload) {
      upload.addEventListener("change", () => {
        if (upload.files[0]) {
          loadFile(upload.files[0], area);
          upload.value = "";  // the text box now holds it; no need to send the file too
        }
      });
    }
  }

  function selectLine(area, line) {
    const lines = area.value.split("\n");
    let start = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
    const end = start + (lines[line - 1] || "").length;
    area.focus({ preventScroll: true });
    area.setSelectionRange(start, end);
    const lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 20;
    area.scrollTop = Math.max(0, (line - 5) * lineHeight);
  }

  function highlight(line) {
    document.querySelectorAll("ol.code li.highlight").forEach((li) => li.classList.remove("highlight"));
    const li = document.getElementById("L" + line);
    if (li) {
      li.classList.add("highlight");
      li.scrollIntoView({ block: "center", behavior: "smooth" });
    }
    const area = textarea();
    if (area) selectLine(area, line);
  }

  function copy(text, button) {
    navigator.clipboard.writeText(text).then(() => {
      const label = button.textContent;
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = label; }, 1500);
    });
  }

  function download(name, text) {
    const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    URL.revokeObjectURL(url);
  }

  document.addEventListener("click", (event) => {
    const lineLink = event.target.closest("a.line-link[data-line]");
    if (lineLink && !lineLink.dataset.file) {
      highlight(parseInt(lineLink.dataset.line, 10));
      return;  // the #L anchor still updates the URL and :target
    }
    const copyButton = event.target.closest("button[data-copy]");
    if (copyButton) { copy(copyButton.dataset.copy, copyButton); return; }
    const copyDiff = event.target.closest("button[data-copy-target]");
    if (copyDiff) {
      const pre = copyDiff.closest("details").querySelector("pre");
      if (pre) copy(pre.textContent, copyDiff);
      return;
    }
    const downloadButton = event.target.closest("button[data-download]");
    if (downloadButton) { download(downloadButton.dataset.download, downloadButton.dataset.text); return; }
    const usePatched = event.target.closest("button[data-use-patched]");
    const area = textarea();
    if (usePatched && area) {
      // On the analyser page: put the patched text in the box and analyse it in place.
      event.preventDefault();
      area.value = usePatched.form.querySelector("textarea[name=manifest]").value;
      area.dispatchEvent(new Event("input"));
      area.form.requestSubmit();
    }
  });

  // Select a finding: highlight the wiring edges it is about (data-findings holds rule:container).
  function selectFinding(item) {
    const article = item.closest("article.workload");
    if (!article) return;
    const rule = item.querySelector(".rule-id code");
    const container = item.querySelector(".container");
    const key = (rule ? rule.textContent.trim() : "") + ":" + (container ? container.textContent.trim() : "");
    const already = item.classList.contains("is-selected");
    article.querySelectorAll(".finding.is-selected").forEach((el) => el.classList.remove("is-selected"));
    article.querySelectorAll(".wiring-edge.is-highlighted").forEach((el) => el.classList.remove("is-highlighted"));
    if (already) return;
    item.classList.add("is-selected");
    article.querySelectorAll(".wiring-edge[data-findings]").forEach((edge) => {
      if (edge.dataset.findings.split(" ").includes(key)) edge.classList.add("is-highlighted");
    });
  }

  document.addEventListener("click", (event) => {
    if (event.target.closest("a, button, summary, details .fix-slot")) return;
    const item = event.target.closest("li.finding");
    if (item) selectFinding(item);
  });

  // --- Errors on in-page (htmx) requests ------------------------------------------------------
  // Our views answer an htmx request that fails with a fragment meant for where the request
  // points (the analyser's message beside the box, the fix slot's explanation): that is swapped
  // in like any answer. Anything else (a server error, a proxy's error page, Django's debug page,
  // no answer at all) never replaces what is on the page: a short message appears at the
  // request's target instead, and the text in the box stays as it was.
  const PROBLEM_CLASS = "request-problem";

  function isDocument(text) {
    return /^\s*(<!doctype|<html)/i.test(text || "");
  }

  function problemText(status) {
    if (!status) return "The server could not be reached, so nothing was sent. Check your connection and try again.";
    if (status === 413) return "The request is too large to be read.";
    if (status === 429) return "Too many requests; wait a moment and try again.";
    if (status === 403) return "This action was refused (403): you may need to log in again.";
    if (status === 404) return "This was not found (404); reload the page.";
    if (status >= 500) return `The server failed (${status}) while answering. Try again; if it keeps happening, tell whoever runs this site.`;
    return `The request failed (${status}).`;
  }

  function showProblem(detail, status) {
    const target = detail.target || detail.elt;
    if (!target || !target.isConnected) return;
    const holder = target.matches("input, textarea, select, button") ? target.parentElement : target;
    holder.querySelectorAll(`:scope > .${PROBLEM_CLASS}`).forEach((el) => el.remove());
    const box = document.createElement("div");
    box.className = `alert error ${PROBLEM_CLASS}`;
    box.setAttribute("role", "alert");
    const strong = document.createElement("strong");
    strong.textContent = "Nothing changed. ";
    box.append(strong, problemText(status));
    if (textarea()) box.append(" Your text is still in the box.");
    holder.prepend(box);
  }

  document.addEventListener("htmx:beforeSwap", (event) => {
    const detail = event.detail;
    const status = detail.xhr ? detail.xhr.status : 0;
    if (status < 400) return;
    if (status < 500 && !isDocument(detail.serverResponse)) {
      detail.shouldSwap = true;  // our own message fragment: show it where the answer goes
      detail.isError = false;
      return;
    }
    detail.shouldSwap = false;
    showProblem(detail, status);
  });
  document.addEventListener("htmx:sendError", (event) => showProblem(event.detail, 0));
  document.addEventListener("htmx:timeout", (event) => showProblem(event.detail, 0));
  // A new answer replaces an old problem message.
  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (target && target.querySelectorAll) {
      target.querySelectorAll(`:scope > .${PROBLEM_CLASS}`).forEach((el) => el.remove());
    }
  });

  // --- Many workloads: the summary table and the details fetched when opened ------------------
  function loadDetail(details) {
    const slot = details.querySelector(":scope > .lazy-slot");
    if (!slot || details.dataset.loading || !details.dataset.src) return;
    details.dataset.loading = "1";
    if (window.htmx) {
      htmx.ajax("GET", details.dataset.src, { target: slot, swap: "outerHTML" }).catch(() => {
        delete details.dataset.loading;
      });
    }
  }

  // "toggle" does not bubble: listen in the capture phase.
  document.addEventListener("toggle", (event) => {
    const details = event.target;
    if (details.matches && details.matches("details.workload-lazy") && details.open) loadDetail(details);
  }, true);

  // A workload opened from the summary: its collapsible entry is made on first opening and
  // filled from the link's URL (the server renders that one workload).
  function openWorkload(link) {
    const id = link.dataset.open;
    let details = document.getElementById(id);
    if (!details) {
      const section = link.closest("[data-many]").parentElement.querySelector(".workload-details");
      if (!section) return false;
      details = document.createElement("details");
      details.className = "workload-lazy";
      details.id = id;
      details.dataset.src = link.getAttribute("href");
      const summary = document.createElement("summary");
      const row = link.closest("tr");
      summary.textContent = row ? `${row.cells[0].textContent} ${link.textContent}` : link.textContent;
      const slot = document.createElement("div");
      slot.className = "lazy-slot";
      slot.innerHTML = '<p class="muted">Loading…</p>';
      details.append(summary, slot);
      section.prepend(details);
    }
    details.open = true;  // the toggle listener loads it
    details.scrollIntoView({ block: "start" });
    return true;
  }

  function applyFilters(section) {
    const value = (name) => section.querySelector(`select[data-filter=${name}]`).value;
    const severity = value("severity"), rule = value("rule"), role = value("role");
    let shown = 0;
    section.querySelectorAll("tbody tr").forEach((row) => {
      const visible = (!severity || row.dataset.severity.split(" ").includes(severity))
        && (!rule || row.dataset.rules.includes(` ${rule} `))
        && (!role || row.dataset.roles.includes(` ${role} `));
      row.hidden = !visible;
      if (visible) shown++;
    });
    const counter = section.querySelector("[data-shown]");
    if (counter) counter.textContent = `${shown} shown`;
  }

  function sortBy(button) {
    const table = button.closest("table");
    const column = parseInt(button.dataset.sort, 10);
    const numeric = button.hasAttribute("data-numeric");
    const descending = button.getAttribute("aria-sort") === "ascending";
    table.querySelectorAll("thead button").forEach((b) => b.removeAttribute("aria-sort"));
    button.setAttribute("aria-sort", descending ? "descending" : "ascending");
    const body = table.tBodies[0];
    const key = (row) => {
      const cell = row.cells[column];
      return numeric ? parseFloat(cell.dataset.value || "0") : cell.textContent.trim().toLowerCase();
    };
    const rows = Array.from(body.rows).map((row) => [key(row), row]);
    rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0) * (descending ? -1 : 1));
    body.append(...rows.map((pair) => pair[1]));
  }

  document.addEventListener("change", (event) => {
    const select = event.target.closest("[data-many] select[data-filter]");
    if (select) applyFilters(select.closest("[data-many]"));
  });

  document.addEventListener("click", (event) => {
    const opener = event.target.closest("a[data-open]");
    if (opener && openWorkload(opener)) { event.preventDefault(); return; }
    const sorter = event.target.closest("[data-many] button[data-sort]");
    if (sorter) sortBy(sorter);
  });

  function init(root) {
    (root || document).querySelectorAll("[data-editor]").forEach(setupEditor);
  }

  if (window.htmx) {
    htmx.onLoad(init);
  } else {
    document.addEventListener("DOMContentLoaded", () => init(document));
  }
})();
