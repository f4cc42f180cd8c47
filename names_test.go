package emailflow_test

import (
	"context"
	"net/mail"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
)

// Attachment names that lie (climbing directories, a right-to-left
// override hiding an .exe, control characters) reach hosts made safe, the
// original kept apart for display on request.
func TestAttachmentNamesAreSafe(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	part := func(name string) string {
		return "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"" + name + "\"\r\n\r\nMZ\r\n"
	}
	raw := "From: jo@exemple.fr\r\nTo: support@boutique.example\r\nSubject: Pièces\r\nMessage-ID: <names@exemple.fr>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nCi-joint.\r\n" +
		part("../../etc/passwd") + part("invoice_\u202Efdp.exe") + part("a\x1bb.txt") + part("facture.pdf") + "--b--\r\n"
	id := f.ingest(t, []byte(raw))
	_, err := f.ws.As("alice").Accept(ctx, id)
	require.NoError(t, err)
	emails, err := f.ws.As("alice").Emails(ctx, id)
	require.NoError(t, err)
	require.Len(t, emails[0].Attachments, 4)
	type name struct{ safe, original string }
	var got []name
	for _, a := range emails[0].Attachments {
		got = append(got, name{a.Filename, a.OriginalFilename})
	}
	assert.Equal(t, []name{
		{"passwd", "../../etc/passwd"},
		{"invoice_fdp.exe", "invoice_\u202Efdp.exe"},
		{"ab.txt", "a\x1bb.txt"},
		{"facture.pdf", ""},
	}, got)

	// Forwarded, the attachments go out under their safe names.
	fw, err := f.ws.As("alice").Forward(ctx, id, emailflow.ForwardRequest{To: []mail.Address{{Address: "litiges@transport.example"}}})
	require.NoError(t, err)
	_, err = f.ws.As("alice").Send(ctx, fw.ID, nil)
	require.NoError(t, err)
	sent := string(f.sender.Sent()[0].Raw)
	assert.Contains(t, sent, `filename=passwd`)
	assert.NotContains(t, sent, "etc/passwd")
	assert.NotContains(t, sent, "\u202E")

	// An agent's attachment is named safely too.
	r, err := f.ws.As("alice").Reply(ctx, id)
	require.NoError(t, err)
	attID, err := f.ws.As("alice").AddAttachment(ctx, r.ID, emailflow.NewAttachment{Filename: `..\..\boot.ini`, ContentType: "text/plain", Body: strings.NewReader("x")})
	require.NoError(t, err)
	d, err := draftEmail(f.ws.As("alice").Draft(ctx, r.ID))
	require.NoError(t, err)
	for _, a := range d.Attachments {
		if a.ID == attID.ID {
			assert.Equal(t, "boot.ini", a.Filename)
			assert.Equal(t, `..\..\boot.ini`, a.OriginalFilename)
		}
	}
}
