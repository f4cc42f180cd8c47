package compose

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sampleID is the Message-ID the samples of testdata/automated report on
// or answer.
const sampleID = "ef.t1.sampleoriginal0000@desk.boutique.example"

// TestReportSamples parses the bounces of testdata/automated (Postfix with
// the original's header only, Exchange, Gmail, Exim with and without an
// RFC 3464 report) and the enmime DSN fixtures, in memory and streaming
// to a BlobStore: each is a bounce whose Report names the message it
// reports on and, per recipient, what became of it.
func TestReportSamples(t *testing.T) {
	tests := []struct {
		file      string
		mta       string
		id        string // OriginalMessageID
		subject   string
		returned  Returned
		failed    bool
		delayed   bool
		statuses  []RecipientStatus // Diagnostic compared by prefix
		warnFree  bool
		textMatch string // a word of the human part, read as the body
	}{
		{
			file: "automated/postfix-headers.eml", mta: "mail.boutique.example", id: sampleID,
			subject: "Re: Commande FR-2291 : colis non reçu", returned: ReturnedHeaders, failed: true,
			statuses: []RecipientStatus{{Recipient: "helene.dupre@exemple.fr", OriginalRecipient: "helene.dupre@exemple.fr", Action: ActionFailed, Status: "5.1.1",
				Diagnostic: "550 5.1.1 <helene.dupre@exemple.fr>: Recipient address rejected: User unknown in virtual mailbox table", RemoteMTA: "mx.exemple.fr"}},
			warnFree: true, textMatch: "could not\nbe delivered",
		},
		{
			file: "automated/postfix-delayed.eml", mta: "mail.boutique.example", id: sampleID,
			subject: "Re: Commande FR-2291 : colis non reçu", returned: ReturnedHeaders, delayed: true,
			statuses: []RecipientStatus{{Recipient: "helene.dupre@exemple.fr", OriginalRecipient: "helene.dupre@exemple.fr", Action: ActionDelayed, Status: "4.4.1",
				Diagnostic: "connect to mx.exemple.fr[198.51.100.7]:25: Connection timed out"}},
			warnFree: true, textMatch: "WARNING ONLY",
		},
		{
			file: "automated/exchange-ndr.eml", mta: "AM7PR03MB6543.eurprd03.prod.outlook.com", id: sampleID,
			subject: "Re: Commande FR-2291 : colis non reçu", returned: ReturnedMessage, failed: true,
			statuses: []RecipientStatus{{Recipient: "marc.dupre@exemple.fr", OriginalRecipient: "marc.dupre@exemple.fr", Action: ActionFailed, Status: "5.1.10",
				Diagnostic: "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"}},
			warnFree: true, textMatch: "couldn't be delivered",
		},
		{
			file: "automated/gmail-bounce.eml", mta: "googlemail.com", id: sampleID,
			subject: "Re: Commande FR-2291 : colis non reçu", returned: ReturnedMessage, failed: true,
			statuses: []RecipientStatus{{Recipient: "helene.dupre@exemple.fr", Action: ActionFailed, Status: "5.1.1",
				Diagnostic: "550 5.1.1 <helene.dupre@exemple.fr>: Recipient address rejected: User unknown",
				RemoteMTA:  "mx.exemple.fr. (198.51.100.7, the server for the domain exemple.fr.)"}},
			warnFree: true, textMatch: "Address not found",
		},
		{
			file: "automated/exim-bounce.eml", mta: "relay.boutique.example", id: sampleID,
			subject: "Re: Commande FR-2291 : colis non reçu", returned: ReturnedMessage, failed: true,
			statuses: []RecipientStatus{{Recipient: "helene.dupre@exemple.fr", Action: ActionFailed, Status: "5.0.0",
				Diagnostic: "550 5.2.2 <helene.dupre@exemple.fr>: Mailbox full", RemoteMTA: "mx.exemple.fr"}},
			warnFree: true, textMatch: "mail delivery software",
		},
		{
			// No RFC 3464 report: the recipient and the original's id are
			// read from the text.
			file: "automated/exim-text.eml", id: sampleID, returned: ReturnedText, failed: true,
			statuses: []RecipientStatus{{Recipient: "helene.dupre@exemple.fr", Action: ActionFailed, Status: "5.1.1",
				Diagnostic: "SMTP error from remote mail server after RCPT TO:<helene.dupre@exemple.fr>: host mx.exemple.fr [198.51.100.7]: 550 5.1.1 User unknown"}},
			warnFree: true, textMatch: "This is a copy of the message",
		},
		{
			file: "enmime-dsn/simple_dsn.raw", mta: "cs.utk.edu", failed: true, returned: ReturnedMessage,
			statuses: []RecipientStatus{{Recipient: "louisl@larry.slip.umd.edu", OriginalRecipient: "louisl@larry.slip.umd.edu", Action: ActionFailed, Status: "4.0.0",
				Diagnostic: "426 connection timed out"}},
		},
		{
			file: "enmime-dsn/simple_dsn_with_html.raw", mta: "cs.utk.edu", failed: true, returned: ReturnedMessage,
			statuses: []RecipientStatus{{Recipient: "louisl@larry.slip.umd.edu", OriginalRecipient: "louisl@larry.slip.umd.edu", Action: ActionFailed, Status: "4.0.0",
				Diagnostic: "426 connection timed out"}},
		},
		{
			file: "enmime-dsn/delayed_dsn.raw", mta: "sun2.nsfnet-relay.ac.uk", delayed: true,
			statuses: []RecipientStatus{{Recipient: "thomas@de-montfort.ac.uk", Action: ActionDelayed, Status: "4.0.0"}},
		},
		{
			file: "enmime-dsn/multi_recipient_dsn.raw", mta: "cs.utk.edu", failed: true, returned: ReturnedMessage,
			statuses: []RecipientStatus{
				{Recipient: "arathib@vnet.ibm.com", OriginalRecipient: "arathib@vnet.ibm.com", Action: ActionFailed, Status: "5.0.0",
					Diagnostic: "550 'arathib@vnet.IBM.COM' is not a registered gateway user", RemoteMTA: "vnet.ibm.com"},
				{Recipient: "johnh@hpnjld.njd.hp.com", OriginalRecipient: "johnh@hpnjld.njd.hp.com", Action: ActionDelayed, Status: "4.0.0"},
				{Recipient: "wsnell@sdcc13.ucsd.edu", OriginalRecipient: "wsnell@sdcc13.ucsd.edu", Action: ActionFailed, Status: "5.0.0",
					Diagnostic: "550 user unknown", RemoteMTA: "sdcc13.ucsd.edu"},
			},
		},
		{
			file: "enmime-dsn/dsn_with_multipart_alternative.raw", mta: "1234.prod.outlook.com", failed: true, returned: ReturnedMessage,
			statuses: []RecipientStatus{{Recipient: "non-existing@example.com", Action: ActionFailed, Status: "5.1.10",
				Diagnostic: "550 5.1.10 RESOLVER.ADR.RecipientNotFound"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", tt.file))
			require.NoError(t, err)
			for _, streamed := range []bool{false, true} {
				var opts *ParseOptions
				if streamed {
					opts = &ParseOptions{Blobs: &memBlobs{}}
				}
				m, err := Parse(bytes.NewReader(raw), opts)
				require.NoError(t, err)
				assert.Equal(t, AutoBounce, m.Auto, "streamed %v", streamed)
				require.NotNil(t, m.Report, "streamed %v", streamed)
				r := m.Report
				assert.Equal(t, tt.mta, r.ReportingMTA)
				assert.Equal(t, tt.id, r.OriginalMessageID)
				assert.Equal(t, tt.subject, r.OriginalSubject)
				assert.Equal(t, tt.returned, r.Returned)
				assert.Equal(t, tt.failed, r.Failed())
				assert.Equal(t, tt.delayed, r.Delayed())
				assert.Equal(t, tt.statuses, r.Recipients)
				if tt.warnFree {
					assert.Empty(t, m.Warnings)
				}
				if tt.textMatch != "" {
					assert.Contains(t, m.Text, tt.textMatch, "the human part stays the body")
				}
			}
		})
	}
}

// TestAutoReplySamples: the out-of-office answers of Outlook (Exchange),
// Gmail and Thunderbird are auto-replies that answer the sample message,
// with no report.
func TestAutoReplySamples(t *testing.T) {
	for _, file := range []string{"outlook-ooo.eml", "gmail-vacation.eml", "thunderbird-template.eml"} {
		t.Run(file, func(t *testing.T) {
			m := mustParse(t, string(readSample(t, file)))
			assert.Equal(t, AutoReply, m.Auto)
			assert.Nil(t, m.Report)
			assert.Equal(t, []string{sampleID}, m.InReplyTo)
			assert.Equal(t, "helene.dupre@exemple.fr", m.From[0].Address)
			assert.Empty(t, m.Warnings)
		})
	}
}

// TestNullSender: a message that came with a null reverse path (only the
// envelope says so) is automated, and a bounce when it returns another
// message; the same message from a person's address is a person's.
func TestNullSender(t *testing.T) {
	returning := "From: relay@mx.example.com\r\nSubject: not delivered\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nYour message was not delivered.\r\n" +
		"--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: support@boutique.example\r\nMessage-ID: <ours@desk>\r\nSubject: Re: x\r\n\r\nhello\r\n--b--\r\n"
	plain := "From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n"
	tests := []struct {
		name   string
		raw    string
		null   bool
		want   Auto
		report bool
	}{
		{"returns a message, null sender", returning, true, AutoBounce, true},
		{"returns a message, a sender", returning, false, AutoNone, false},
		{"plain, null sender", plain, true, AutoBulk, false},
		{"plain, a sender", plain, false, AutoNone, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, streamed := range []bool{false, true} {
				opts := &ParseOptions{NullSender: tt.null}
				if streamed {
					opts.Blobs = &memBlobs{}
				}
				m, err := Parse(strings.NewReader(tt.raw), opts)
				require.NoError(t, err)
				assert.Equal(t, tt.want, m.Auto)
				assert.Equal(t, tt.report, m.Report != nil)
				if tt.report {
					assert.Equal(t, "ours@desk", m.Report.OriginalMessageID)
					assert.Equal(t, ReturnedMessage, m.Report.Returned)
				}
			}
		})
	}
}

func TestParseDeliveryStatus(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *Report
		err  error
	}{
		{
			name: "no action: taken from the status class",
			in:   "Reporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; a@x\r\nStatus: 5.7.1 (refused)\r\n\r\nFinal-Recipient: rfc822; b@x\r\nStatus: 4.2.2\r\n\r\nFinal-Recipient: rfc822; c@x\r\nStatus: 2.0.0\r\n",
			want: &Report{ReportingMTA: "mx", Recipients: []RecipientStatus{
				{Recipient: "a@x", Action: ActionFailed, Status: "5.7.1"},
				{Recipient: "b@x", Action: ActionDelayed, Status: "4.2.2"},
				{Recipient: "c@x", Action: ActionDelivered, Status: "2.0.0"},
			}},
		},
		{
			name: "field names in any case, blank lines before and between",
			in:   "\n\nreporting-mta: dns;mx\n\n\n\nfinal-recipient: RFC822;A@X\naction: Failed\nstatus: 5.1.1\ndiagnostic-code: smtp;\n 550 no\n such user\n",
			want: &Report{ReportingMTA: "mx", Recipients: []RecipientStatus{{Recipient: "A@X", Action: ActionFailed, Status: "5.1.1", Diagnostic: "550 no such user"}}},
		},
		{
			name: "no per-message block",
			in:   "Final-Recipient: rfc822;a@x\r\nAction: relayed\r\nStatus: 2.0.0\r\n",
			want: &Report{Recipients: []RecipientStatus{{Recipient: "a@x", Action: ActionRelayed, Status: "2.0.0"}}},
		},
		{
			name: "only an original recipient",
			in:   "Reporting-MTA: dns; mx\n\nOriginal-Recipient: rfc822;a@x\nAction: expanded\n",
			want: &Report{ReportingMTA: "mx", Recipients: []RecipientStatus{{Recipient: "a@x", OriginalRecipient: "a@x", Action: ActionExpanded}}},
		},
		{
			name: "a block without a recipient is skipped; an unknown action from the status",
			in:   "Reporting-MTA: dns; mx\n\nAction: failed\n\nFinal-Recipient: rfc822;a@x\nAction: bounced\nStatus: 5.0.0\n",
			want: &Report{ReportingMTA: "mx", Recipients: []RecipientStatus{{Recipient: "a@x", Action: ActionFailed, Status: "5.0.0"}}},
		},
		{
			name: "Gmail's X-Original-Message-ID",
			in:   "Reporting-MTA: dns; googlemail.com\nX-Original-Message-ID: <abc@example.com>\n\nFinal-Recipient: rfc822; a@x\nAction: failed\nStatus: 5.1.1\n",
			want: &Report{ReportingMTA: "googlemail.com", OriginalMessageID: "abc@example.com", Recipients: []RecipientStatus{{Recipient: "a@x", Action: ActionFailed, Status: "5.1.1"}}},
		},
		{
			name: "global: UTF-8 address type",
			in:   "Reporting-MTA: dns; mx\n\nFinal-Recipient: utf-8; hélène@exemple.fr\nAction: failed\nStatus: 5.1.1\n",
			want: &Report{ReportingMTA: "mx", Recipients: []RecipientStatus{{Recipient: "hélène@exemple.fr", Action: ActionFailed, Status: "5.1.1"}}},
		},
		{
			name: "invalid UTF-8 and NUL are cleaned",
			in:   "Reporting-MTA: dns; m\xffx\n\nFinal-Recipient: rfc822; a\x00@x\nStatus: 5.1.1\n",
			want: &Report{ReportingMTA: "m\uFFFDx", Recipients: []RecipientStatus{{Recipient: "a@x", Action: ActionFailed, Status: "5.1.1"}}},
		},
		{name: "nothing", in: "", err: ErrNoReport},
		{name: "prose", in: "Your message could not be delivered.\n", err: ErrNoReport},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseDeliveryStatus([]byte(tt.in))
			if tt.err != nil {
				assert.ErrorIs(t, err, tt.err)
				assert.Nil(t, r)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, r)
		})
	}
}

// TestReportBounds: a report naming thousands of recipients keeps the
// first 1000; a long diagnostic is cut.
func TestReportBounds(t *testing.T) {
	var b strings.Builder
	b.WriteString("Reporting-MTA: dns; mx\n")
	for i := range 1500 {
		b.WriteString("\nFinal-Recipient: rfc822; r" + strings.Repeat("x", i%7) + "@x\nStatus: 5.1.1\nDiagnostic-Code: smtp; " + strings.Repeat("é", 3000) + "\n")
	}
	r, err := ParseDeliveryStatus([]byte(b.String()))
	require.NoError(t, err)
	assert.Len(t, r.Recipients, 1000)
	for _, s := range r.Recipients {
		assert.LessOrEqual(t, len(s.Diagnostic), 2000)
		assert.True(t, utf8.ValidString(s.Diagnostic))
	}
}

func TestRecipientStatusString(t *testing.T) {
	assert.Equal(t, "a@x: failed 5.1.1 (550 no such user)", RecipientStatus{Recipient: "a@x", Action: ActionFailed, Status: "5.1.1", Diagnostic: "550 no such user"}.String())
	assert.Equal(t, "a@x: delayed", RecipientStatus{Recipient: "a@x", Action: ActionDelayed}.String())
}

// FuzzParseDeliveryStatus feeds arbitrary bytes to ParseDeliveryStatus:
// no panic, a report or ErrNoReport, every string one clean line, at most
// 1000 recipients, each with an action the RFC knows.
func FuzzParseDeliveryStatus(f *testing.F) {
	for _, file := range append(globSamples(f, "automated/*.eml"), globSamples(f, "enmime-dsn/*.raw")...) {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		// The delivery-status part, or the whole file.
		if i := bytes.Index(raw, []byte("Reporting-MTA")); i >= 0 {
			raw = raw[i:]
		}
		f.Add(raw)
	}
	f.Add([]byte("Final-Recipient: rfc822;a@x\n\tfolded\nStatus: 5.1.1 (x)\n\n\n:\n \n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseDeliveryStatus(data)
		if err != nil {
			if !errors.Is(err, ErrNoReport) || r != nil {
				t.Fatalf("unexpected: %v, %v", r, err)
			}
			return
		}
		if len(r.Recipients) > maxReportRecipients {
			t.Fatalf("%d recipients", len(r.Recipients))
		}
		line := func(s string) {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\r\n") || len(s) > maxReportValue {
				t.Fatalf("not one clean line: %q", s)
			}
		}
		line(r.ReportingMTA)
		line(r.OriginalMessageID)
		for _, s := range r.Recipients {
			line(s.Recipient)
			line(s.OriginalRecipient)
			line(s.Status)
			line(s.Diagnostic)
			line(s.RemoteMTA)
			if s.Recipient == "" {
				t.Fatal("a recipient status without a recipient")
			}
			switch s.Action {
			case ActionFailed, ActionDelayed, ActionDelivered, ActionRelayed, ActionExpanded:
			default:
				t.Fatalf("action %q", s.Action)
			}
		}
	})
}

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "automated", name))
	require.NoError(t, err)
	return b
}

func globSamples(t testing.TB, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	require.NoError(t, err)
	require.NotEmpty(t, files, pattern)
	return files
}
