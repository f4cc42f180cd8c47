// Command mailroom runs a contact centre's mail room: it takes the mail of
// an IMAP mailbox into a Workspace (on the embedded store, or PostgreSQL
// with -postgres), sends what the Workspace sends through an SMTP relay,
// and prints each interaction as it arrives.
//
//	go run ./examples/mailroom -imap-addr imap.example.com:993 -imap-user support@example.com \
//	    -mailbox support@example.com -smtp-addr smtp.example.com:587 -smtp-user support@example.com
//
// Passwords and tokens come from the environment, never from flags (they
// would show in the process list): EMAILFLOW_IMAP_PASSWORD or
// EMAILFLOW_IMAP_TOKEN (an OAuth 2.0 access token, for Microsoft 365 and
// Gmail), EMAILFLOW_SMTP_PASSWORD or EMAILFLOW_SMTP_TOKEN. Every flag has
// an environment variable too (-imap-addr: EMAILFLOW_IMAP_ADDR, and so
// on); -help lists them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/oauth2"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/store/memory"
	"github.com/emailflow/emailflow/store/postgres"
	"github.com/emailflow/emailflow/transport/imap"
	transport "github.com/emailflow/emailflow/transport/memory"
	"github.com/emailflow/emailflow/transport/smtp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "mailroom:", err)
		}
		os.Exit(2)
	}
}

// config is what the flags and the environment say.
type config struct {
	imapAddr, imapTLS, imapUser, folder, after, moveTo string
	imapLoopback                                       bool
	mailbox, queue                                     string
	smtpAddr, smtpTLS, smtpUser                        string
	smtpInsecure                                       bool
	ack, postgres                                      string
	maxSize                                            int64
	poll                                               time.Duration
	once                                               bool
	// From the environment only.
	imapPassword, imapToken, smtpPassword, smtpToken string
}

// parse reads the flags, each defaulting to its environment variable.
func parse(args []string, getenv func(string) string, out io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("mailroom", flag.ContinueOnError)
	fs.SetOutput(out)
	str := func(p *string, name, def, usage string) {
		env := "EMAILFLOW_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		if v := getenv(env); v != "" {
			def = v
		}
		fs.StringVar(p, name, def, usage+" ($"+env+")")
	}
	boolean := func(p *bool, name, usage string) {
		env := "EMAILFLOW_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		fs.BoolVar(p, name, getenv(env) == "true", usage+" ($"+env+"=true)")
	}
	str(&c.imapAddr, "imap-addr", "", "IMAP server, host:port (required)")
	str(&c.imapTLS, "imap-tls", "implicit", "IMAP TLS: implicit (993), starttls (143) or none")
	str(&c.imapUser, "imap-user", "", "IMAP user name (required)")
	boolean(&c.imapLoopback, "imap-insecure-loopback", "allow the IMAP login without TLS to a server on this machine")
	str(&c.folder, "imap-folder", "INBOX", "folder to read")
	str(&c.after, "after", "leave", "after ingest: leave, seen, move or delete")
	str(&c.moveTo, "move-to", "", "folder -after move moves to")
	str(&c.mailbox, "mailbox", "", "the centre's address the mail is for (required)")
	str(&c.queue, "queue", "support", "the queue its mail goes to")
	str(&c.smtpAddr, "smtp-addr", "", "SMTP relay, host:port; empty: nothing is sent (recorded only)")
	str(&c.smtpTLS, "smtp-tls", "starttls", "SMTP TLS: starttls (587), implicit (465) or none")
	str(&c.smtpUser, "smtp-user", "", "SMTP user name")
	boolean(&c.smtpInsecure, "smtp-insecure-auth", "allow the SMTP login without TLS")
	str(&c.ack, "ack", "", "when set, this text acknowledges the first email of each new conversation")
	str(&c.postgres, "postgres", "", "PostgreSQL URL; empty: the embedded in-memory store")
	fs.Int64Var(&c.maxSize, "max-size", imap.DefaultMaxSize, "largest message fetched whole; larger ones are taken in from their header")
	fs.DurationVar(&c.poll, "poll", imap.DefaultPollInterval, "poll interval when the server has no IDLE")
	fs.BoolVar(&c.once, "once", false, "take in what is there, then exit")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	c.imapPassword, c.imapToken = getenv("EMAILFLOW_IMAP_PASSWORD"), getenv("EMAILFLOW_IMAP_TOKEN")
	c.smtpPassword, c.smtpToken = getenv("EMAILFLOW_SMTP_PASSWORD"), getenv("EMAILFLOW_SMTP_TOKEN")
	var missing []string
	for _, f := range []struct{ name, v string }{{"-imap-addr", c.imapAddr}, {"-imap-user", c.imapUser}, {"-mailbox", c.mailbox}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	if c.imapPassword == "" && c.imapToken == "" {
		return nil, errors.New("set EMAILFLOW_IMAP_PASSWORD or EMAILFLOW_IMAP_TOKEN")
	}
	return c, nil
}

// token returns a TokenSource of a static access token, or nil. A real
// host gives an oauth2.Config's, which refreshes the token.
func token(access string) oauth2.TokenSource {
	if access == "" {
		return nil
	}
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: access, TokenType: "Bearer"})
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	c, err := parse(args, getenv, out)
	if err != nil {
		return err
	}

	// The store: embedded, or PostgreSQL for many instances.
	var store emailflow.Store
	var dir emailflow.Directory
	if c.postgres != "" {
		pg, err := postgres.Open(ctx, c.postgres, nil)
		if err != nil {
			return err
		}
		defer pg.Close()
		store, dir = pg, pg
	} else {
		m := memory.New(nil)
		store, dir = m, m
	}

	// The sender: SMTP, or a recorder when no relay is given.
	var sender emailflow.Sender = &transport.Sender{}
	if c.smtpAddr != "" {
		sender = smtp.NewSender(c.smtpAddr, &smtp.SenderOptions{
			TLS: smtp.TLSMode(c.smtpTLS), Username: c.smtpUser, Password: c.smtpPassword,
			TokenSource: token(c.smtpToken), InsecureAuth: c.smtpInsecure,
		})
	}

	opts := &emailflow.Options{
		Mailboxes: []emailflow.Mailbox{{Address: c.mailbox, Queue: c.queue}},
	}
	if c.ack != "" {
		opts.AutoAcknowledge = &compose.Template{Text: c.ack}
	}
	ws, err := emailflow.New(emailflow.Ports{Store: store, Sender: sender, Directory: dir}, opts)
	if err != nil {
		return err
	}
	// The mail room reads what arrives as an administrator, who may see
	// every interaction.
	if err := ws.PutAgent(ctx, emailflow.Agent{ID: printer, Name: "Mail room", Roles: []emailflow.Role{emailflow.RoleAdmin}}); err != nil {
		return err
	}
	in, err := imap.NewIngester(ws, []imap.Mailbox{{
		Addr: c.imapAddr, TLS: imap.TLSMode(c.imapTLS), InsecureLoopbackAuth: c.imapLoopback,
		Username: c.imapUser, Password: c.imapPassword, TokenSource: token(c.imapToken),
		Folder: c.folder, Deliver: c.mailbox, After: imap.Action(c.after), MoveTo: c.moveTo,
	}}, &imap.Options{MaxSize: c.maxSize, PollInterval: c.poll})
	if err != nil {
		return err
	}

	sub := ws.Subscribe(ctx, &emailflow.SubscribeOptions{Buffer: 4096})
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		for e := range sub.C {
			show(context.WithoutCancel(ctx), ws, e, out)
		}
	}()
	defer func() {
		sub.Close()
		<-printed
	}()

	if c.once {
		return in.Sync(ctx)
	}
	fmt.Fprintf(out, "mailroom: watching %s/%s for %s (Ctrl-C stops)\n", c.imapAddr, c.folder, c.mailbox)
	go func() { _ = ws.Runner(nil).Run(ctx) }() // outbox retries, offer timeouts
	if err := in.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// printer is the agent the mail room reads as.
const printer = "mailroom"

// show prints what an event says of the mail room.
func show(ctx context.Context, ws *emailflow.Workspace, e emailflow.Event, out io.Writer) {
	switch e.Type {
	case emailflow.EventIngested, emailflow.EventMessage:
	case emailflow.EventSent:
		fmt.Fprintf(out, "%s  sent       %s\n", e.At.Format("15:04:05"), e.InteractionID)
		return
	default:
		return
	}
	it, err := ws.As(printer).Interaction(ctx, e.InteractionID)
	if err != nil {
		fmt.Fprintf(out, "%s  %s: %v\n", e.At.Format("15:04:05"), e.InteractionID, err)
		return
	}
	emails, err := ws.As(printer).Emails(ctx, it.ID)
	if err != nil || len(emails) == 0 {
		return
	}
	last := emails[len(emails)-1]
	kind := "new"
	if e.Type == emailflow.EventMessage {
		kind = "follow-up"
	}
	from := last.From.Address
	if last.From.Name != "" {
		from = last.From.Name + " <" + last.From.Address + ">"
	}
	fmt.Fprintf(out, "%s  %-10s %s  %s  %q  → %s (%s)\n", e.At.Format("15:04:05"), kind, it.ID, from, last.Subject, it.Queue, it.State)
	for _, w := range last.Warnings {
		fmt.Fprintf(out, "          ! %s\n", w)
	}
}
