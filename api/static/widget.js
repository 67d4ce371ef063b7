/* newsdesk chat widget. Embed with one tag:
 *   <script src="https://your-newsdesk/widget.js" data-api-key="…" data-title="Ask our newsroom"
 *     data-accent="#0b5fff" data-position="right|left" data-theme="light|dark|auto"
 *     data-greeting="…" data-placeholder="…" defer></script>
 * Plain JavaScript, no dependencies, no build step. Everything lives in a shadow root, and every
 * piece of answer or source text goes in through text nodes, never as HTML.
 * Theming: data attributes, or CSS custom properties on the page (--nd-accent, --nd-accent-text,
 * --nd-font, --nd-radius) set on `newsdesk-widget` or :root. */
(() => {
  "use strict";
  const script =
    document.currentScript ||
    [...document.scripts].reverse().find((s) => /\/widget\.js([?#]|$)/.test(s.src));
  if (!script || script.dataset.ndMounted) return;
  script.dataset.ndMounted = "1";

  const d = script.dataset;
  const api = (d.apiUrl || new URL(script.src, location.href).origin).replace(/\/+$/, "");
  const pick = (value, allowed, fallback) => (allowed.includes(value) ? value : fallback);
  const cfg = {
    key: d.apiKey || "",
    title: d.title || "Ask our newsroom",
    accent: d.accent && CSS.supports("color", d.accent) ? d.accent : "",
    accentText: d.accentText && CSS.supports("color", d.accentText) ? d.accentText : "",
    position: pick(d.position, ["left", "right"], "right"),
    theme: pick(d.theme, ["light", "dark", "auto"], "auto"),
    greeting:
      d.greeting ||
      "Hi! Ask me about the announcements we cover. Every answer links to the sentence it comes from.",
    placeholder: d.placeholder || "Ask a question…",
  };
  const MAX_HISTORY = 8; // messages sent back for follow-ups; the API caps the total size
  const MAX_CHARS = 2000;

  const DARK = "--bg:#17191e;--fg:#eceef2;--mu:#a3aab6;--bd:#30343c;--bb:#23262d;--pb:#1f2228;--lk:#eceef2";
  const CSS_TEXT = `
.nd{--a:var(--nd-accent,#0b5fff);--at:var(--nd-accent-text,#fff);--bg:#fff;--fg:#1a1c21;--mu:#5b6270;
--bd:#dce0e6;--bb:#f1f3f6;--pb:#fff;--lk:var(--a);--r:var(--nd-radius,16px);--sh:0 12px 40px rgba(0,0,0,.22);
font:15px/1.45 var(--nd-font,system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif);
color:var(--fg);text-align:left;letter-spacing:normal;-webkit-font-smoothing:antialiased}
.nd[data-theme=dark]{${DARK}}
@media (prefers-color-scheme:dark){.nd[data-theme=auto]{${DARK}}}
.nd *{box-sizing:border-box}
:where(.nd *){font:inherit;color:inherit;margin:0;padding:0}
[hidden]{display:none!important}
:where(button){cursor:pointer;border:0;background:none}
:focus-visible{outline:3px solid var(--a);outline-offset:2px}
.launch{position:fixed;bottom:20px;right:20px;width:58px;height:58px;border-radius:50%;
background:var(--a);color:var(--at);box-shadow:var(--sh);display:grid;place-items:center;z-index:2147483646}
.launch svg{width:28px;height:28px;fill:currentColor}
.launch:focus-visible{outline-color:var(--fg);outline-offset:3px}
.panel{position:fixed;bottom:92px;right:20px;width:390px;max-width:calc(100vw - 40px);height:620px;
max-height:calc(100vh - 112px);display:flex;flex-direction:column;background:var(--bg);
border:1px solid var(--bd);border-radius:var(--r);box-shadow:var(--sh);overflow:hidden;z-index:2147483647}
.nd[data-pos=left] .launch,.nd[data-pos=left] .panel{right:auto;left:20px}
header{display:flex;align-items:center;gap:8px;padding:12px 12px 12px 16px;background:var(--a);color:var(--at)}
h2{flex:1;font-size:16px;font-weight:650;line-height:1.3}
.x{width:36px;height:36px;border-radius:50%;font-size:24px;line-height:1;color:var(--at)}
.x:focus-visible{outline-color:var(--at);outline-offset:-3px}
.log{flex:1;overflow-y:auto;padding:16px;display:flex;flex-direction:column;gap:12px;overscroll-behavior:contain}
.msg{max-width:88%;padding:10px 13px;border-radius:14px;background:var(--bb);white-space:pre-wrap;overflow-wrap:anywhere}
.user{align-self:flex-end;background:var(--a);color:var(--at);border-bottom-right-radius:4px}
.bot{align-self:flex-start;border-bottom-left-radius:4px}
.bot.abstain{background:transparent;border:1px dashed var(--bd);color:var(--mu)}
.bot.err{background:transparent;border:1px solid #d6455d;color:var(--fg)}
.lbl{font-size:12px;font-weight:650;text-transform:uppercase;letter-spacing:.04em;color:var(--mu);margin-bottom:2px}
.short{font-weight:650;margin-bottom:4px}
.note{color:var(--mu);font-size:13px;margin-top:4px}
.chip{display:inline-grid;place-items:center;min-width:20px;height:20px;padding:0 5px;margin:0 1px;
border-radius:10px;background:var(--a);color:var(--at);font-size:12px;font-weight:700;line-height:1;vertical-align:1px}
.src{margin-top:10px;padding-top:8px;border-top:1px solid var(--bd);font-size:13px;list-style:none;white-space:normal}
.src li{margin-top:3px;color:var(--mu)}
.src a{color:var(--lk);text-decoration:underline}
.pop{position:absolute;z-index:3;width:300px;max-width:calc(100% - 16px);padding:12px 14px;border-radius:12px;
background:var(--pb);border:1px solid var(--bd);box-shadow:var(--sh);white-space:normal;font-size:13px;color:var(--fg)}
.pop b{display:block;font-weight:650;font-size:14px}
.pop time{display:block;color:var(--mu);font-size:12px;margin:2px 0 6px}
.pop q{display:block;padding-left:10px;border-left:3px solid var(--a);font-style:italic;margin-bottom:8px}
.pop q::before,.pop q::after{content:none}
.pop a{color:var(--lk);text-decoration:underline;font-weight:600}
form{display:flex;gap:8px;align-items:flex-end;padding:10px 12px;border-top:1px solid var(--bd)}
textarea{flex:1;resize:none;min-height:42px;max-height:120px;padding:10px 12px;border:1px solid var(--bd);
border-radius:12px;background:var(--bg);color:var(--fg)}
textarea::placeholder{color:var(--mu)}
textarea:focus-visible{outline-width:2px;outline-offset:0;border-color:transparent}
.send,.stop{height:42px;min-width:42px;padding:0 12px;border-radius:12px;background:var(--a);color:var(--at);font-weight:650}
.stop{background:var(--bb);color:var(--fg);border:1px solid var(--bd)}
.foot{padding:0 12px 8px;font-size:11px;color:var(--mu);text-align:center}
.typing{display:inline-flex;gap:4px;padding:4px 0}
.typing i{width:7px;height:7px;border-radius:50%;background:var(--mu);animation:b 1s infinite ease-in-out}
.typing i:nth-child(2){animation-delay:.15s}.typing i:nth-child(3){animation-delay:.3s}
@keyframes b{0%,80%,100%{opacity:.3;transform:none}40%{opacity:1;transform:translateY(-3px)}}
.fb{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin-top:8px;font-size:13px;color:var(--mu);white-space:normal}
.vote{min-width:34px;height:28px;padding:0 8px;border-radius:14px;border:1px solid var(--bd);background:var(--bg);line-height:1}
.vote svg{width:15px;height:15px;fill:currentColor;vertical-align:-2px}
.vote.down svg{transform:rotate(180deg)}
.vote[aria-pressed=true]{background:var(--a);color:var(--at);border-color:var(--a)}
.fbc{display:flex;gap:6px;width:100%;align-items:flex-end}
.fbc textarea{min-height:34px;padding:6px 10px;font-size:13px}
.fbc .sendfb{height:34px;padding:0 10px;border-radius:10px;background:var(--a);color:var(--at);font-weight:650}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:480px){.panel{inset:0;width:auto;height:auto;max-width:none;max-height:none;border:0;border-radius:0}}
@media (prefers-reduced-motion:reduce){.typing i{animation:none}}`;

  // Static markup only: no configuration or answer text is ever part of this string.
  const MARKUP = `<div class="nd" part="root">
<button class="launch" type="button" aria-haspopup="dialog" aria-expanded="false" aria-controls="p">
<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z"/></svg>
</button>
<section class="panel" id="p" role="dialog" aria-modal="false" aria-labelledby="t" hidden>
<header><h2 id="t"></h2><button class="x" type="button" aria-label="Close chat">×</button></header>
<div class="log" role="log" aria-live="polite" aria-relevant="additions" aria-label="Conversation" tabindex="0"></div>
<form><textarea rows="1" aria-label="Your question" maxlength="${MAX_CHARS}"></textarea>
<button class="send" type="submit" aria-label="Send question">➤</button>
<button class="stop" type="button" hidden>Stop</button></form>
<p class="foot">Answers quote the announcements they come from.</p>
</section></div>`;

  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  };
  const safeUrl = (url) => (typeof url === "string" && /^https?:\/\//i.test(url) ? url : "");
  const niceDate = (iso) => {
    const when = iso ? new Date(iso) : null;
    if (!when || Number.isNaN(when.getTime())) return iso || "";
    const opts = { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" };
    return when.toLocaleDateString(undefined, opts);
  };

  function mount() {
    const host = document.createElement("newsdesk-widget");
    // Inline !important beats any page rule, including `* { all: unset !important }`.
    host.style.cssText = "all:initial!important;display:block!important;position:static!important";
    const shadow = host.attachShadow({ mode: "open" });
    const style = document.createElement("style");
    style.textContent = CSS_TEXT;
    const tpl = document.createElement("template");
    tpl.innerHTML = MARKUP;
    shadow.append(style, tpl.content);
    document.body.append(host);
    new Chat(host, shadow);
  }

  class Chat {
    constructor(host, shadow) {
      const $ = (sel) => shadow.querySelector(sel);
      this.host = host;
      this.root = $(".nd");
      this.launch = $(".launch");
      this.panel = $(".panel");
      this.log = $(".log");
      this.form = $("form");
      this.input = $("textarea");
      this.send = $(".send");
      this.stopBtn = $(".stop");
      this.history = [];
      this.ctrl = null;
      this.pop = el("div", "pop");
      this.pop.id = "pop";
      this.pop.hidden = true;
      this.popChip = null;

      this.root.dataset.theme = cfg.theme;
      this.root.dataset.pos = cfg.position;
      if (cfg.accent) this.root.style.setProperty("--nd-accent", cfg.accent);
      if (cfg.accentText) this.root.style.setProperty("--nd-accent-text", cfg.accentText);
      $("h2").textContent = cfg.title;
      this.launch.setAttribute("aria-label", `Open chat: ${cfg.title}`);
      this.input.placeholder = cfg.placeholder;

      this.launch.onclick = () => this.toggle(this.panel.hidden);
      $(".x").onclick = () => this.toggle(false);
      this.stopBtn.onclick = () => this.ctrl && this.ctrl.abort();
      this.form.onsubmit = (e) => {
        e.preventDefault();
        this.submit();
      };
      this.input.onkeydown = (e) => {
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          this.submit();
        }
      };
      this.input.oninput = () => this.grow();
      this.panel.onkeydown = (e) => this.onKey(e);
      this.log.onscroll = () => this.hidePop();
      this.pop.onmouseenter = () => clearTimeout(this.popTimer);
      this.pop.onmouseleave = () => this.hidePopSoon();
      this.pop.addEventListener("focusout", (e) => this.leaving(e));
    }

    toggle(open) {
      this.panel.hidden = !open;
      this.launch.setAttribute("aria-expanded", String(open));
      if (open) {
        if (!this.log.childElementCount) this.addMsg("bot", cfg.greeting);
        this.input.focus();
      } else {
        this.hidePop();
        this.launch.focus();
      }
    }

    onKey(e) {
      if (e.key !== "Escape") return;
      e.stopPropagation();
      if (this.pop.hidden) return this.toggle(false);
      const chip = this.popChip;
      const fromPop = e.target === chip || this.pop.contains(e.target);
      this.hidePop();
      if (!fromPop) return; // it was only hovered: leave focus where it is
      this.quiet = true; // back on the chip without opening its popover again
      chip.focus();
      this.quiet = false;
    }

    grow() {
      this.input.style.height = "auto";
      this.input.style.height = `${Math.min(this.input.scrollHeight + 2, 120)}px`;
    }

    addMsg(kind, text) {
      const msg = el("div", `msg ${kind}`, text);
      this.log.append(msg);
      this.scroll();
      return msg;
    }

    scroll() {
      this.log.scrollTop = this.log.scrollHeight;
    }

    busy(ctrl) {
      this.ctrl = ctrl;
      this.send.hidden = !!ctrl;
      this.stopBtn.hidden = !ctrl;
      this.root.toggleAttribute("data-busy", !!ctrl);
    }

    submit() {
      const question = this.input.value.trim();
      if (!question || this.ctrl) return;
      this.input.value = "";
      this.grow();
      this.ask(question.slice(0, MAX_CHARS));
    }

    async ask(question) {
      this.hidePop();
      this.addMsg("user", question);
      this.history.push({ role: "user", content: question });
      const bot = this.addMsg("bot");
      bot.setAttribute("aria-busy", "true");
      const typing = el("span", "typing");
      typing.setAttribute("role", "status");
      typing.append(el("i"), el("i"), el("i"), el("span", "sr", "Answering…"));
      bot.append(typing);
      const streamed = el("p", "txt live"); // replaced by the final render
      const ctrl = new AbortController();
      this.busy(ctrl);
      let text = "";
      try {
        const answer = await this.fetchAnswer(ctrl.signal, (piece) => {
          if (!text) typing.replaceWith(streamed);
          text += piece;
          streamed.textContent = text;
          this.scroll();
        });
        this.render(bot, answer);
        this.history.push({ role: "assistant", content: String(answer.answer || "") });
        this.host.dispatchEvent(new CustomEvent("newsdesk:answer", { detail: answer }));
      } catch (error) {
        this.history.pop(); // an unanswered question is not part of the conversation
        bot.replaceChildren();
        if (error.name === "AbortError") {
          if (text) bot.append(streamed);
          bot.append(el("p", "note", "Stopped."));
        } else {
          bot.classList.add("err");
          bot.append(el("p", "", error.friendly || "Couldn't reach the newsroom. Check your connection and try again."));
        }
      } finally {
        bot.removeAttribute("aria-busy");
        this.busy(null);
        this.scroll();
        const active = this.host.shadowRoot.activeElement;
        if (!this.panel.hidden && (!active || active === this.stopBtn)) this.input.focus();
      }
    }

    async fetchAnswer(signal, onDelta) {
      const headers = { "Content-Type": "application/json", Accept: "text/event-stream" };
      if (cfg.key) headers.Authorization = `Bearer ${cfg.key}`;
      const messages = this.history.slice(-MAX_HISTORY).map((m) => ({
        role: m.role,
        content: m.content.slice(0, MAX_CHARS),
      }));
      const res = await fetch(`${api}/v1/chat`, {
        method: "POST",
        headers,
        body: JSON.stringify({ messages, stream: true }),
        signal,
      });
      if (!res.ok) throw await httpError(res);
      if (!/event-stream/.test(res.headers.get("content-type") || "")) return res.json();
      let answer = null;
      for await (const [event, data] of readEvents(res.body)) {
        if (event === "delta") onDelta(String(data.text || ""));
        else if (event === "answer") answer = data;
        else if (event === "error") throw friendlyError((data.error || {}).message, data.error);
      }
      if (!answer) throw friendlyError("The answer was cut off. Please try again.");
      return answer;
    }

    render(bot, answer) {
      bot.replaceChildren();
      const cites = new Map((answer.citations || []).map((c) => [Number(c.id), c]));
      if (answer.abstained) {
        bot.classList.add("abstain");
        bot.append(
          el("p", "lbl", "No answer found"),
          el("p", "txt", answer.answer || "The announcements I can search don't answer that."),
          this.feedback(answer),
        );
        return;
      }
      if (answer.short_answer) bot.append(el("p", "short", answer.short_answer));
      const body = el("p", "txt");
      String(answer.answer || "")
        .split(/\[(\d+)\]/)
        .forEach((part, i) => {
          if (i % 2 === 0) body.append(part); // append(string) makes a text node
          else body.append(cites.has(Number(part)) ? this.chip(cites.get(Number(part))) : `[${part}]`);
        });
      bot.append(body);
      if (cites.size) bot.append(this.sources([...cites.values()]));
      bot.append(this.feedback(answer));
    }

    // Thumbs up/down under an answer; a thumbs down asks what was wrong (optional) first.
    feedback(answer) {
      const row = el("div", "fb");
      row.setAttribute("role", "group");
      row.setAttribute("aria-label", "Was this answer helpful?");
      const status = el("span", "fbs");
      status.setAttribute("role", "status");
      const vote = (cls, label) => {
        const button = el("button", `vote ${cls}`);
        button.append(thumb());
        button.type = "button";
        button.setAttribute("aria-label", label);
        button.setAttribute("aria-pressed", "false");
        return button;
      };
      const up = vote("up", "Helpful answer");
      const down = vote("down", "Wrong or unhelpful answer");
      const send = async (verdict, comment) => {
        for (const b of row.querySelectorAll("button")) b.disabled = true;
        (verdict === "up" ? up : down).setAttribute("aria-pressed", "true");
        status.textContent = "Sending…";
        try {
          await this.postFeedback(answer, verdict, comment);
          row.replaceChildren(status);
          status.textContent = "Thanks for your feedback.";
        } catch {
          for (const b of row.querySelectorAll("button")) b.disabled = false;
          (verdict === "up" ? up : down).setAttribute("aria-pressed", "false");
          status.textContent = "Couldn't send that. Please try again.";
        }
      };
      up.onclick = () => send("up", "");
      down.onclick = () => {
        if (row.querySelector(".fbc")) return;
        down.setAttribute("aria-pressed", "true");
        const box = el("div", "fbc");
        const note = el("textarea");
        Object.assign(note, { rows: 1, maxLength: 2000, placeholder: "What was wrong? (optional)" });
        note.setAttribute("aria-label", "What was wrong with this answer? (optional)");
        const go = el("button", "sendfb", "Send");
        go.type = "button";
        go.onclick = () => send("down", note.value.trim());
        note.onkeydown = (e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            go.click();
          }
        };
        box.append(note, go);
        row.append(box);
        note.focus();
      };
      row.append(up, down, status);
      return row;
    }

    async postFeedback(answer, verdict, comment) {
      const headers = { "Content-Type": "application/json" };
      if (cfg.key) headers.Authorization = `Bearer ${cfg.key}`;
      const citations = (answer.citations || []).slice(0, 50).map((c) => ({
        id: c.id, doc_id: c.doc_id, title: c.title, url: c.url, published: c.published,
        quote: String(c.quote || "").slice(0, 4000),
      }));
      const res = await fetch(`${api}/v1/feedback`, {
        method: "POST",
        headers,
        body: JSON.stringify({
          question: String(answer.question || "").slice(0, 4000),
          answer: String(answer.answer || "").slice(0, 20000),
          citations,
          verdict,
          comment: comment.slice(0, 2000),
          abstained: !!answer.abstained,
        }),
      });
      if (!res.ok) throw await httpError(res);
    }

    sources(citations) {
      const list = el("ol", "src");
      list.setAttribute("aria-label", "Sources");
      for (const c of citations) {
        const item = el("li", "", `[${c.id}] `);
        const url = safeUrl(c.url);
        const title = c.title || "Untitled source";
        if (url) {
          const link = el("a", "", title);
          Object.assign(link, { href: url, target: "_blank", rel: "noopener noreferrer" });
          item.append(link);
        } else item.append(title);
        if (c.published) item.append(` · ${niceDate(c.published)}`);
        list.append(item);
      }
      return list;
    }

    chip(c) {
      const chip = el("button", "chip", String(c.id));
      chip.type = "button";
      chip.setAttribute("aria-label", `Source ${c.id}: ${c.title || "untitled"}`);
      chip.setAttribute("aria-expanded", "false");
      chip.onmouseenter = () => this.showPop(chip, c);
      chip.onfocus = () => this.quiet || this.showPop(chip, c);
      chip.onmouseleave = () => this.hidePopSoon();
      chip.onblur = (e) => this.leaving(e);
      chip.onclick = () => this.showPop(chip, c); // a tap on a touch screen
      return chip;
    }

    showPop(chip, c) {
      clearTimeout(this.popTimer);
      if (this.popChip === chip) return;
      this.hidePop();
      const pop = this.pop;
      pop.replaceChildren(el("b", "", c.title || "Untitled source"));
      if (c.published) {
        const time = el("time", "", niceDate(c.published));
        time.dateTime = c.published;
        pop.append(time);
      }
      pop.append(el("q", "", c.quote || ""));
      const url = safeUrl(c.url);
      if (url) {
        const link = el("a", "", "Read the source ↗");
        Object.assign(link, { href: url, target: "_blank", rel: "noopener noreferrer" });
        pop.append(link);
      }
      chip.after(pop); // right after its chip, so Tab moves from the chip into the link
      pop.hidden = false;
      chip.setAttribute("aria-expanded", "true");
      chip.setAttribute("aria-describedby", "pop");
      this.popChip = chip;
      this.place(chip);
    }

    place(chip) {
      const box = this.panel.getBoundingClientRect();
      const at = chip.getBoundingClientRect();
      const pop = this.pop;
      const left = Math.max(8, Math.min(at.left - box.left - 24, box.width - pop.offsetWidth - 8));
      const above = at.top - box.top - pop.offsetHeight - 8;
      pop.style.left = `${left}px`;
      pop.style.top = `${above > 56 ? above : at.bottom - box.top + 8}px`;
    }

    hidePopSoon() {
      clearTimeout(this.popTimer);
      this.popTimer = setTimeout(() => this.hidePop(), 250);
    }

    leaving(e) {
      const next = e.relatedTarget;
      if (next && (next === this.popChip || this.pop.contains(next))) return;
      this.hidePop();
    }

    hidePop() {
      clearTimeout(this.popTimer);
      if (!this.popChip) return;
      this.popChip.setAttribute("aria-expanded", "false");
      this.popChip.removeAttribute("aria-describedby");
      this.popChip = null;
      this.pop.hidden = true;
      this.pop.remove();
    }
  }

  // A drawn thumb (the path of Material Icons' "thumb_up", Apache-2.0): emoji need a font the
  // reader's system may lack. The thumbs-down button shows it turned over.
  function thumb() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(ns, "path");
    path.setAttribute(
      "d",
      "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 " +
        "7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09" +
        "-.23.14-.47.14-.73v-2z",
    );
    svg.append(path);
    return svg;
  }

  function friendlyError(message, info) {
    return Object.assign(new Error(message || "Something went wrong. Please try again."), {
      friendly: message || "Something went wrong. Please try again.",
      info,
    });
  }

  async function httpError(res) {
    let info = {};
    try {
      info = (await res.json()).error || {};
    } catch {
      // not our JSON error body (a proxy's page): the status alone decides the message
    }
    const wait = Number.parseInt(res.headers.get("Retry-After") || "", 10);
    const status = res.status;
    let msg;
    if (status === 429) {
      msg = "Lots of questions right now. Please try again ";
      msg += wait > 0 ? `in ${wait} second${wait === 1 ? "" : "s"}.` : "in a moment.";
    } else if (status === 401 || status === 403) {
      msg = "This chat isn't allowed to ask the newsroom (check the widget's API key).";
    } else if (status === 503) {
      msg = "The newsroom is still warming up. Please try again in a few seconds.";
    } else if (status === 413 || status === 422) {
      msg = `That question couldn't be asked${info.message ? `: ${info.message}` : ""}.`;
    } else {
      msg = "Something went wrong on our side. Please try again.";
    }
    return friendlyError(msg, { status, ...info });
  }

  // EventSource can only GET, and the chat is a POST: a small reader for the SSE wire format.
  async function* readEvents(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      // A lone \r at the end of a chunk may be the first half of \r\n: keep it for later.
      buffer = (buffer + value).replace(/\r\n|\r(?=[^])/g, "\n");
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (!line || line[0] === ":") continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") event = val;
          else if (field === "data") data.push(val);
        }
        if (data.length) yield [event, JSON.parse(data.join("\n"))];
        end = buffer.indexOf("\n\n");
      }
    }
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount, { once: true });
})();
