"use strict";
// The redaes page: plain JavaScript, no build step. Talks to /v1/* on the same server.
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("redaes-token") || "";

async function post(path, form) {
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const res = await fetch(path, { method: "POST", body: form, headers });
  const body = await res.json().catch(() => ({ message: res.statusText }));
  if (res.status === 401) {
    token = prompt("This server needs a token") || "";
    sessionStorage.setItem("redaes-token", token);
  }
  if (!res.ok) throw new Error(body.message || res.statusText);
  return body;
}

function showError(err) { $("error").textContent = err ? String(err.message || err) : ""; }
const fmt = (x) => x.toFixed(2);
const signed = (x) => (x >= 0 ? "+" : "") + x.toFixed(2);
const chain = (edits) => edits.map((e) => `${e.op} ${signed(e.strength)}`).join(", ");

async function analyse(file) {
  showError(null);
  const url = URL.createObjectURL(file);
  $("result").hidden = false;
  $("preview").src = url;
  $("score").textContent = "...";
  $("std").textContent = "";
  $("text").textContent = "";
  $("effects").innerHTML = "";
  $("suggestions").innerHTML = '<p class="muted">searching...</p>';
  const form = () => { const f = new FormData(); f.append("image", file); return f; };
  try {
    const [row] = await post("/v1/score", form());
    $("score").textContent = fmt(row.score);
    $("std").textContent = "± " + fmt(row.std);
    const ex = await post("/v1/explain", form());
    $("text").textContent = ex.text;
    for (const e of ex.effects.slice(0, 6)) {
      const li = document.createElement("li");
      li.textContent = `${e.op} ${signed(e.strength)}: ${signed(e.delta)} ± ${fmt(e.delta_std)}`;
      $("effects").appendChild(li);
    }
    const sg = await post("/v1/suggest", form());
    const box = $("suggestions");
    box.innerHTML = "";
    if (!sg.suggestions.length) box.innerHTML = '<p class="muted">no edit raises the score</p>';
    for (const s of sg.suggestions) {
      const div = document.createElement("div");
      div.className = "pair suggestion";
      div.innerHTML = `<figure><img alt="before"><figcaption>before ${fmt(sg.score)}</figcaption></figure>
        <figure><img alt="after"><figcaption></figcaption></figure>`;
      div.querySelectorAll("img")[0].src = url;
      div.querySelectorAll("img")[1].src = s.preview;
      div.querySelectorAll("figcaption")[1].textContent =
        `${chain(s.edits)}: ${fmt(s.score)} (gain ${signed(s.gain)})`;
      box.appendChild(div);
    }
  } catch (err) { showError(err); }
}

async function comparePair() {
  showError(null);
  const a = $("file-a").files[0], b = $("file-b").files[0];
  if (!a || !b) { showError("pick two photos"); return; }
  const f = new FormData(); f.append("a", a); f.append("b", b);
  try {
    const v = await post("/v1/compare", f);
    $("compare-out").textContent = `a ${fmt(v.score_a)}, b ${fmt(v.score_b)}, ` +
      `delta ${signed(v.delta)} ± ${fmt(v.delta_std)}, P(b better) ${fmt(v.p_b_better)}`;
  } catch (err) { showError(err); }
}

$("file").addEventListener("change", (e) => { if (e.target.files[0]) analyse(e.target.files[0]); });
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault(); drop.classList.remove("over");
  if (e.dataTransfer.files[0]) analyse(e.dataTransfer.files[0]);
});
$("compare").addEventListener("click", comparePair);
