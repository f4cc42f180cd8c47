// Command desk is a small web desk on emailflow: the email interaction
// window of a contact-centre agent (inbox, toolbar, case data, notes,
// disposition, draft editor, transfer and consult dialogs, contact panel),
// the supervisor's queues and the QA reviewer's queue, on the embedded
// default (memory store, in-memory Sender) with demo agents and mail
// waiting. It is built with net/http and html/template only; the pages
// work without JavaScript, which only adds live updates.
//
//	go run ./examples/desk            # then open the address it prints
//	go run ./examples/desk -addr 127.0.0.1:0
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:22080", "address to listen on (host:port; port 0 picks a free one)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "desk:", err)
		os.Exit(1)
	}
}

// run serves the demo desk on addr until ctx ends.
func run(ctx context.Context, addr string, out io.Writer) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := newDemo(ctx)
	if err != nil {
		return err
	}
	srv, err := newServer(ctx, d, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	// The Workspace's timers: offers that time out, outbox retries.
	go func() {
		if err := d.ws.Runner(nil).Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("workspace", "err", err)
		}
	}()
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "emailflow desk (demo): http://%s/\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return hs.Shutdown(shut)
	}
}
