// The gust demo: a tiny HTTP server. Run `gust` in this directory, open
// http://127.0.0.1:8080/, then edit the message below and save: gust
// rebuilds, stops this server (SIGTERM, graceful shutdown) and starts the
// new one, usually well under a second later.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Edit me and save.
const message = "Hello from gust's demo!"

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()

	started := time.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s\n(pid %d, up %s)\n", message, os.Getpid(),
			time.Since(started).Round(time.Millisecond))
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Printf("demo: serving %q on http://%s/ (pid %d)", message, *addr, os.Getpid())

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
