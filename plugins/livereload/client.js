// gust live reload, the page side: served as /__gust/livereload.js and
// injected into every HTML page the proxy relays. It follows the events on
// /__gust/events (through one SharedWorker per browser, /__gust/worker.js,
// or its own EventSource where there is no SharedWorker): reload the page,
// show or clear the build-failure overlay, swap changed stylesheets.
// Nothing reaches the page's globals but window.__gust: {id (the gust
// instance's, from hello), state ("ok", "failed" or "building"; null before
// hello), connected (an events connection is up)}. worker.js imports this
// file for connect() alone.
(function () {
	"use strict";
	const EVENTS = ["hello", "building", "build-failed", "reload", "css"];

	// Keep an EventSource on /__gust/events, reopened after a drop with a
	// backoff (250 ms doubling to 5 s; back to 250 once a gust says hello).
	// deliver(name, data) gets every event, and ("down", null) on a drop.
	function connect(deliver) {
		let delay = 250;
		const open = () => {
			const es = new EventSource("/__gust/events");
			for (const name of EVENTS) {
				es.addEventListener(name, (e) => {
					let data;
					try {
						data = JSON.parse(e.data);
					} catch (err) {
						return;
					}
					if (name === "hello") delay = 250;
					deliver(name, data);
				});
			}
			es.onerror = () => {
				es.close();
				deliver("down", null);
				setTimeout(open, delay);
				delay = Math.min(delay * 2, 5000);
			};
		};
		open();
	}

	if (typeof document === "undefined") {
		self.gustConnect = connect; // in worker.js
		return;
	}
	if (window.__gust) return; // injected twice: one client is enough
	const gust = (window.__gust = { id: null, state: null, connected: false });

	function clearOverlay() {
		const old = document.getElementById("__gust_overlay");
		if (old) old.remove();
	}

	function showOverlay(output) {
		clearOverlay();
		const box = document.createElement("div");
		box.id = "__gust_overlay";
		box.style.cssText =
			"position:fixed;inset:0;z-index:2147483647;overflow:auto;margin:0;" +
			"padding:16px 24px;background:#1b1b1b;color:#eee;" +
			"font:14px/1.45 ui-monospace,monospace;text-align:left";
		const title = document.createElement("div");
		title.textContent = "Build failed";
		title.style.cssText = "color:#ff6b6b;font:bold 18px/1.4 sans-serif;margin:0 0 12px";
		const pre = document.createElement("pre");
		pre.textContent = output || ""; // text, never parsed as HTML
		pre.style.cssText = "margin:0;white-space:pre-wrap;font:inherit;color:inherit";
		box.append(title, pre);
		(document.body || document.documentElement).appendChild(box);
	}

	// Replace the matching stylesheets (all when none matches) by clones
	// with a fresh query; the old link goes once the new one has loaded, so
	// the page is never unstyled, and stays if it fails to. Links already
	// being replaced are skipped.
	const leaving = new WeakSet();
	function swapCss(paths) {
		const links = [...document.querySelectorAll('link[rel~="stylesheet" i][href]')].filter(
			(l) => !leaving.has(l)
		);
		const ends = (link) => {
			let path = new URL(link.href, location.href).pathname;
			try {
				path = decodeURIComponent(path);
			} catch (err) {}
			return paths.some((p) => path.endsWith("/" + p.replace(/^\/+/, "")));
		};
		const hit = links.filter(ends);
		for (const old of hit.length ? hit : links) {
			const url = new URL(old.href, location.href);
			url.searchParams.set("gust_css", Date.now());
			const fresh = old.cloneNode();
			fresh.href = url.href;
			leaving.add(old);
			const settle = (loaded) => {
				fresh.onload = fresh.onerror = null;
				if (loaded) old.remove();
				else fresh.remove();
				leaving.delete(old);
			};
			fresh.onload = () => settle(true);
			fresh.onerror = () => settle(false);
			old.after(fresh);
		}
	}

	function handle(name, data) {
		switch (name) {
		case "hello":
			if (gust.id !== null && data.id !== gust.id) {
				location.reload(); // another gust: the app restarted too
				return;
			}
			gust.id = data.id;
			gust.state = data.state;
			gust.connected = true;
			if (data.state === "failed") showOverlay(data.output);
			else clearOverlay();
			break;
		case "down":
			gust.connected = false;
			break;
		case "building":
			gust.state = "building";
			break;
		case "build-failed":
			gust.state = "failed";
			showOverlay(data.output);
			break;
		case "reload":
			location.reload();
			break;
		case "css":
			swapCss(Array.isArray(data.paths) ? data.paths : []);
			break;
		}
	}

	let worker = null;
	try {
		worker = new SharedWorker("/__gust/worker.js", { name: "gust-livereload" });
	} catch (err) {}
	if (!worker) {
		connect(handle);
		return;
	}
	const port = worker.port;
	port.onmessage = (e) => handle(e.data.name, e.data.data);
	// A worker that cannot start (blocked, failed to load): go alone.
	worker.onerror = () => {
		port.onmessage = null;
		connect(handle);
	};
	// The worker cannot see a tab go: tell it, and come back from the
	// back/forward cache.
	addEventListener("pagehide", () => port.postMessage("bye"));
	addEventListener("pageshow", (e) => e.persisted && port.postMessage("hi"));
})();
