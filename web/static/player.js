// The review player: waveform from the stored peaks, silences shaded, bookmarks marked; click to seek.
(function () {
  "use strict";
  const audio = document.getElementById("audio");
  const canvas = document.getElementById("waveform");
  if (!audio || !canvas) return;
  const box = document.getElementById("player");
  const data = JSON.parse((document.getElementById("player-data") || {}).textContent || "{}");
  const peaks = data.peaks || [];
  const silences = data.silences || [];
  const marks = data.bookmarks || [];
  const playButton = document.getElementById("play");
  const position = document.getElementById("position");
  const ctx = canvas.getContext("2d");

  function length() {
    return isFinite(audio.duration) && audio.duration > 0 ? audio.duration : parseFloat(box.dataset.duration) || 1;
  }
  function clock(s) {
    s = Math.max(0, Math.floor(s));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }
  function draw() {
    const w = canvas.width, h = canvas.height, total = length();
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = "#fff3d6";
    silences.forEach(([a, b]) => ctx.fillRect((a / total) * w, 0, ((b - a) / total) * w, h));
    const played = (audio.currentTime / total) * w;
    const bar = w / Math.max(peaks.length, 1);
    peaks.forEach((p, i) => {
      const x = i * bar, y = Math.max(1, p * (h - 10));
      ctx.fillStyle = x < played ? "#1f5fa8" : "#9bb4d1";
      ctx.fillRect(x, (h - y) / 2, Math.max(1, bar - 1), y);
    });
    ctx.fillStyle = "#c0392b";
    marks.forEach((m) => ctx.fillRect((m.offset_s / total) * w - 1, 0, 2, h));
    position.textContent = clock(audio.currentTime);
  }
  function seek(seconds) {
    audio.currentTime = Math.min(Math.max(0, seconds), length());
    draw();
  }
  canvas.addEventListener("click", (e) => {
    const r = canvas.getBoundingClientRect();
    seek(((e.clientX - r.left) / r.width) * length());
  });
  document.querySelectorAll("button.seek").forEach((b) =>
    b.addEventListener("click", () => { seek(parseFloat(b.dataset.offset)); audio.play(); }));
  playButton.addEventListener("click", () => (audio.paused ? audio.play() : audio.pause()));
  audio.addEventListener("play", () => (playButton.textContent = "❚❚"));
  audio.addEventListener("pause", () => (playButton.textContent = "▶"));
  ["timeupdate", "loadedmetadata", "seeked"].forEach((ev) => audio.addEventListener(ev, draw));
  draw();
})();
