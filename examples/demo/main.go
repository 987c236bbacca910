// The gust demo: a tiny web app. Run `gust` in this directory, open
// http://127.0.0.1:8090/ (gust's live-reload proxy in front of this
// server, which listens on 127.0.0.1:8080), then edit the message below
// and save: gust rebuilds, stops this server (SIGTERM, graceful shutdown),
// starts the new one and, once it listens, reloads the page. Edit
// static/style.css and the page is restyled without a reload; break the
// build and the compiler's error shows over the page.
package main

import (
	"context"
	"flag"
	"fmt"
	"html"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// gust.json hands the demo its listening socket ("sockets"), so a browser
// that reloads during a restart waits instead of seeing an error, even
// without the proxy.

// Edit me and save.
const message = "Hello from gust's demo!"

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>gust demo</title>
<link rel="stylesheet" href="/static/style.css">
</head>
<body>
<h1>%s</h1>
<p class="meta">pid %d, up %s</p>
</body>
</html>
`

// listener returns the socket gust passed (the systemd socket-activation
// protocol: fd 3, LISTEN_FDS and LISTEN_PID), so connections made while
// gust restarts this server wait in the socket's backlog instead of being
// refused; without one, it listens on addr itself.
func listener(addr string) (net.Listener, error) {
	if os.Getenv("LISTEN_PID") == strconv.Itoa(os.Getpid()) && os.Getenv("LISTEN_FDS") != "" {
		return net.FileListener(os.NewFile(3, "LISTEN_FD_3"))
	}
	return net.Listen("tcp", addr)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()

	started := time.Now()
	mux := http.NewServeMux()
	mux.Handle("/static/", http.FileServer(http.Dir("."))) // the files of static/
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, page, html.EscapeString(message), os.Getpid(),
			time.Since(started).Round(time.Millisecond))
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	errc := make(chan error, 1)
	ln, err := listener(*addr)
	if err != nil {
		log.Fatalf("demo: %v", err)
	}
	go func() { errc <- srv.Serve(ln) }()
	log.Printf("demo: serving %q on http://%s/ (pid %d)", message, ln.Addr(), os.Getpid())

	select {
	case err := <-errc:
		log.Fatalf("demo: %v", err)
	case sig := <-stop:
		log.Printf("demo: %v: shutting down", sig)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			log.Printf("demo: shutdown: %v", err)
		}
	}
}
