// Progressive enhancement for the analyser: everything works without it.
(function () {
  "use strict";

  const ACCEPTED = /\.(ya?ml|json)$/i;

  function textarea() {
    return document.querySelector("#analyze-form textarea[name=manifest]");
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

  function init(root) {
    (root || document).querySelectorAll("[data-editor]").forEach(setupEditor);
  }

  if (window.htmx) {
    htmx.onLoad(init);
  } else {
    document.addEventListener("DOMContentLoaded", () => init(document));
  }
})();
