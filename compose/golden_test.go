package compose

import (
	"bytes"
	"flag"
	"net/mail"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/golden")

// goldenOriginal is the customer message the golden drafts answer.
const goldenOriginal = `From: =?utf-8?q?Fran=C3=A7oise_Dupr=C3=A9?= <francoise@example.fr>
To: Acme Support <support@acme.test>, Bob <bob@example.com>
Cc: carol@example.com, support@acme.test
Subject: AW: Commande 1234 =?utf-8?q?=E2=80=94_colis_ab=C3=AEm=C3=A9?=
Date: Mon, 23 Nov 2026 09:15:00 +0100
Message-ID: <m3@example.fr>
References: <m1@example.fr> <m2@acme.test>
Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: multipart/alternative; boundary=alt

--alt
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Bonjour,

Le colis est arriv=E9 ab=EEm=E9.
Merci de votre aide.
--alt
Content-Type: text/html; charset=utf-8

<p>Bonjour,</p><p>Le colis est arriv&eacute; <b>ab&icirc;m&eacute;</b>.</p><p>Merci de votre aide.</p><script>track()</script>
--alt--
--outer
Content-Type: image/jpeg; name=photo.jpg
Content-Disposition: attachment; filename=photo.jpg
Content-Transfer-Encoding: base64

/9j/4AAQSkZJRg==
--outer--
`

func goldenDrafts(t *testing.T) map[string]*Draft {
	t.Helper()
	raw := []byte(crlf(goldenOriginal))
	orig, err := Parse(bytes.NewReader(raw), nil)
	require.NoError(t, err)
	require.Empty(t, orig.Warnings)
	from := mail.Address{Name: "Acme Support", Address: "support@acme.test"}
	ropts := &ReplyOptions{From: from, QuoteLanguage: "fr"}

	reply := Reply(orig, ropts)
	reply.Text = "Bonjour Françoise,\n\nNous vous envoyons un nouveau colis.\n" + reply.Text
	reply.HTML = "<p>Bonjour Françoise,</p><p>Nous vous envoyons un nouveau colis.</p>\n" + reply.HTML

	all := ReplyAll(orig, &ReplyOptions{From: from})
	all.Text = "Hello all,\n\nA new parcel is on its way.\n" + all.Text

	fwd, err := Forward(orig, raw, &ForwardOptions{
		From:          from,
		To:            []mail.Address{{Name: "Logistique", Address: "logistique@partner.example"}},
		Instructions:  "Merci de renvoyer la commande 1234.",
		QuoteLanguage: "fr",
	})
	require.NoError(t, err)

	fwdAtt, err := Forward(orig, raw, &ForwardOptions{
		From:         from,
		To:           []mail.Address{{Address: "quality@acme.test"}},
		Instructions: "Damaged parcel, see the attached message.",
		AsAttachment: true,
	})
	require.NoError(t, err)

	drafts := map[string]*Draft{"reply": reply, "reply_all": all, "forward": fwd, "forward_attachment": fwdAtt}
	for name, d := range drafts {
		d.MessageID = name + ".1@acme.test"
	}
	return drafts
}

// TestGolden compares rendered replies and forwards with
// testdata/golden/*.eml; run with -update to rewrite them.
func TestGolden(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 11, 24, 14, 30, 0, 0, time.FixedZone("CET", 3600)) }
	for name, d := range goldenDrafts(t) {
		t.Run(name, func(t *testing.T) {
			got, err := Render(d, &RenderOptions{Hostname: "acme.test", Now: now})
			require.NoError(t, err)
			path := filepath.Join("testdata", "golden", name+".eml")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./compose -run TestGolden -update")
			assert.Equal(t, string(want), string(got))

			m, err := Parse(bytes.NewReader(got), nil)
			require.NoError(t, err)
			assert.Empty(t, m.Warnings)
			assert.Equal(t, d.Subject, m.Subject)
		})
	}
}
