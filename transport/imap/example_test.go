package imap_test

import (
	"bytes"
	"context"
	"fmt"
	"net"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/store/memory"
	eimap "github.com/emailflow/emailflow/transport/imap"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// An Ingester takes a mailbox's mail into a Workspace and moves each
// message to an archive folder. Here the mailbox is go-imap's in-memory
// server; a host gives its provider's address, and a TokenSource for
// Microsoft 365 or Gmail.
func Example() {
	// The mail server, with one message waiting.
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("support", "s3cret")
	mem.AddUser(u)
	_ = u.Create("INBOX", nil)
	raw := "From: Hélène Dupré <helene@exemple.fr>\r\nTo: support@boutique.example\r\n" +
		"Subject: Colis non reçu\r\nMessage-ID: <colis-2291@exemple.fr>\r\n\r\nBonjour, mon colis n'est pas arrivé.\r\n"
	_, _ = u.Append("INBOX", bytes.NewReader([]byte(raw)), &imap.AppendOptions{})
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapMove: {}, imap.CapUIDPlus: {}},
		InsecureAuth: true,
	})
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	// The desk.
	ws, _ := emailflow.New(emailflow.Ports{Store: memory.New(nil), Sender: &transport.Sender{}}, &emailflow.Options{
		Mailboxes: []emailflow.Mailbox{{Address: "support@boutique.example", Queue: "support-fr"}},
	})
	in, err := eimap.NewIngester(ws, []eimap.Mailbox{{
		Addr: l.Addr().String(), TLS: eimap.TLSNone, InsecureLoopbackAuth: true, // a server on this machine
		Username: "support", Password: "s3cret",
		Deliver: "support@boutique.example",
		After:   eimap.Move, MoveTo: "Archive",
	}}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Run(ctx) would watch the mailbox until ctx ends; Sync takes in what
	// is there and returns.
	if err := in.Sync(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	// Read as the desk's administrator, who sees every interaction.
	_ = ws.PutAgent(context.Background(), emailflow.Agent{ID: "admin", Roles: []emailflow.Role{emailflow.RoleAdmin}})
	its, _ := ws.As("admin").Interactions(context.Background(), emailflow.Query{})
	for _, it := range its {
		fmt.Println(it.Subject, "→", it.Queue, it.State)
	}
	// Output:
	// Colis non reçu → support-fr queued
}
