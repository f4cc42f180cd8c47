package smtp_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/mail"
	"time"

	"github.com/emailflow/emailflow"
	smtp "github.com/emailflow/emailflow/transport/smtp"
)

// A Sender for a submission server; hand it to emailflow.New as
// Ports.Sender.
func ExampleNewSender() {
	sender := smtp.NewSender("smtp.shop.example:587", &smtp.SenderOptions{
		TLS:            smtp.TLSStartTLS,
		TLSConfig:      &tls.Config{MinVersion: tls.VersionTLS12},
		Username:       "support@shop.example",
		Password:       "app-password",
		HeloName:       "desk.shop.example",
		DialTimeout:    10 * time.Second,
		CommandTimeout: time.Minute,
	})
	_ = sender
}

// An MX for the centre: STARTTLS, postmaster mail to the support
// mailbox, tighter limits than the defaults. Serve it with
// server.ListenAndServe(":25"); hand it to a Workspace with IngestInto.
func ExampleNewServer() {
	var ws *emailflow.Workspace // the host's Workspace
	var cert tls.Certificate    // the MX's certificate
	server := smtp.NewServer(smtp.IngestInto(ws), []string{"support@shop.example", "ventes@shop.example"}, &smtp.ServerOptions{
		Domain:              "mx.shop.example",
		TLSConfig:           &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		Postmaster:          "support@shop.example",
		MaxConnections:      50,
		MaxConnectionsPerIP: 10,
		IdleTimeout:         2 * time.Minute,
		MessageTimeout:      5 * time.Minute,
		SpoolThreshold:      512 << 10,
	})
	defer server.Close()
}

// A full exchange in-process: the Server takes in mail for one mailbox
// (with emailflow, the IngestFunc is smtp.IngestInto(workspace)) and a
// Sender delivers to it.
func Example() {
	ingest := func(_ context.Context, mailbox string, r io.Reader) error {
		m, err := mail.ReadMessage(r)
		if err != nil {
			return err
		}
		env := r.(emailflow.EnvelopeReader).Envelope()
		fmt.Printf("%s received %q from %s, Return-Path %s\n", mailbox, m.Header.Get("Subject"), env.From, m.Header.Get("Return-Path"))
		return nil
	}
	server := smtp.NewServer(ingest, []string{"support@shop.example"}, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() { _ = server.Serve(l) }()
	defer server.Close()

	sender := smtp.NewSender(l.Addr().String(), &smtp.SenderOptions{TLS: smtp.TLSNone})
	msg := []byte("Subject: Where is my parcel?\r\nFrom: jo@example.org\r\n\r\nHello\r\n")
	ctx := context.Background()

	err = sender.Send(ctx, "jo@example.org", []string{"support@shop.example"}, msg)
	fmt.Println("sent:", err == nil)

	err = sender.Send(ctx, "jo@example.org", []string{"nobody@shop.example"}, msg)
	fmt.Println("refused for good:", smtp.IsPermanent(err))
	// Output:
	// support@shop.example received "Where is my parcel?" from jo@example.org, Return-Path <jo@example.org>
	// sent: true
	// refused for good: true
}
