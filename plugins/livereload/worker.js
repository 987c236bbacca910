// gust live reload, the SharedWorker (/__gust/worker.js): one connection to
// /__gust/events per browser, whatever the number of tabs. It relays every
// event to every tab's port as {name, data}, and gives a tab that connects
// later the hello it would have got on its own connection (id, and the state
// as the events since have changed it).
importScripts("/__gust/livereload.js"); // connect()
(function () {
	"use strict";
	const ports = new Set();
	let hello = null; // while connected: what a new tab must be told

	self.gustConnect((name, data) => {
		if (name === "hello") hello = data;
		else if (name === "down") hello = null;
		else if (hello && name === "build-failed")
			hello = { id: hello.id, state: "failed", output: data.output };
		else if (hello && name === "reload") hello = { id: hello.id, state: "ok", output: "" };
		for (const port of ports) port.postMessage({ name, data });
	});

	self.onconnect = (e) => {
		const port = e.ports[0];
		ports.add(port);
		port.onmessage = (m) => {
			if (m.data === "bye") ports.delete(port);
			else if (m.data === "hi") ports.add(port);
		};
		if (hello) port.postMessage({ name: "hello", data: hello });
	};
})();
