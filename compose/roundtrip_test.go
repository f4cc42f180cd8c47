package compose

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
)

// TestRoundTripBodies renders drafts and parses them back.
func TestRoundTripBodies(t *testing.T) {
	tests := []struct {
		name, subject, text, html, filename string
	}{
		{"french", "Réclamation : colis abîmé à Noël", "Bonjour,\n\nLe colis est arrivé abîmé ; où est-il ?\nÇa ne va pas.\n", "<p>Déjà vu &amp; «guillemets»</p>", "reçu été.pdf"},
		{"emoji", "Merci 🎉🙏", "Super 👍 — vraiment 💯\n", "<p>🎉</p>", "😀.png"},
		{"japanese", "ご注文について", "こんにちは。\n注文番号は１２３４です。\n", "<p>ありがとうございます</p>", "請求書.pdf"},
		{"long lines and dots", strings.Repeat("long subject ", 12), strings.Repeat("x", 300) + "\n.\nFrom here\n-- \nsig  \n", "", "a.txt"},
		{"quoted-printable specials", "a = b", "=?utf-8?q?not-encoded?=\n=3D\ttab\n", "<p style=\"a:b\">=</p>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Draft{
				From:    mail.Address{Name: "Léa 🌸", Address: "lea@acme.test"},
				To:      []mail.Address{{Name: "山田 太郎", Address: "taro@example.jp"}},
				Subject: tt.subject,
				Text:    tt.text,
				HTML:    tt.html,
			}
			data := []byte("binary\x00\xff\xfe data")
			if tt.filename != "" {
				d.Attachments = []Attachment{{Filename: tt.filename, ContentType: "application/octet-stream", Data: data}}
			}
			raw, err := Render(d, &RenderOptions{Now: fixedNow})
			require.NoError(t, err)
			for _, c := range raw {
				require.Less(t, c, byte(0x80), "rendered message is 7-bit")
			}
			m, err := Parse(bytes.NewReader(raw), nil)
			require.NoError(t, err)
			assert.Empty(t, m.Warnings)
			assert.Equal(t, strings.TrimSpace(tt.subject), m.Subject)
			assert.Equal(t, d.From, m.From[0])
			assert.Equal(t, d.To, m.To)
			assert.Equal(t, tt.text, crlfNorm(m.Text))
			assert.Equal(t, tt.html, crlfNorm(m.HTML))
			if tt.filename != "" {
				require.Len(t, m.Attachments, 1)
				assert.Equal(t, tt.filename, m.Attachments[0].Filename)
				assert.Equal(t, data, m.Attachments[0].Data)
			}
		})
	}
}

func encode(t *testing.T, enc encoding.Encoding, s string) string {
	t.Helper()
	out, err := enc.NewEncoder().String(s)
	require.NoError(t, err)
	return out
}

// TestRoundTripCharsets parses mail in legacy charsets, replies to it and
// forwards it as an attachment: the text survives as UTF-8 every time.
func TestRoundTripCharsets(t *testing.T) {
	tests := []struct {
		name    string
		charset string
		enc     encoding.Encoding
		cte     string
		text    string
		subject string
	}{
		{"iso-2022-jp 7bit", "ISO-2022-JP", japanese.ISO2022JP, "7bit", "お問い合わせありがとうございます。\n配送は明日です。\n", "配送について"},
		{"shift_jis base64", "Shift_JIS", japanese.ShiftJIS, "base64", "請求書を送ってください。\n", "請求書"},
		{"windows-1252 8bit", "windows-1252", charmap.Windows1252, "8bit", "“Quoted” price: 42 € – café\n", "Prix “42 €”"},
		{"iso-8859-1 quoted-printable", "iso-8859-1", charmap.ISO8859_1, "quoted-printable", "Déjà reçu, merci à vous.\n", "Déjà reçu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := encode(t, tt.enc, tt.text)
			switch tt.cte {
			case "base64":
				var b bytes.Buffer
				writeBase64(&b, []byte(body))
				body = b.String()
			case "quoted-printable":
				var b strings.Builder
				for _, c := range []byte(body) {
					if c >= 0x80 || c == '=' {
						b.WriteString("=" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
					} else {
						b.WriteByte(c)
					}
				}
				body = b.String()
			}
			subject := "=?" + tt.charset + "?B?" + b64(encode(t, tt.enc, tt.subject)) + "?="
			raw := "From: Customer <c@example.com>\r\nTo: support@acme.test\r\nSubject: " + subject +
				"\r\nMessage-ID: <orig@example.com>\r\nContent-Type: text/plain; charset=" + tt.charset +
				"\r\nContent-Transfer-Encoding: " + tt.cte + "\r\n\r\n" + body
			orig, err := Parse(strings.NewReader(raw), nil)
			require.NoError(t, err)
			require.Empty(t, orig.Warnings)
			assert.Equal(t, tt.text, crlfNorm(orig.Text))
			assert.Equal(t, tt.subject, orig.Subject)

			// Reply: the quoted text comes back in UTF-8.
			reply := Reply(orig, &ReplyOptions{From: testFrom})
			out, err := Render(reply, &RenderOptions{Now: fixedNow})
			require.NoError(t, err)
			back, err := Parse(bytes.NewReader(out), nil)
			require.NoError(t, err)
			firstLine, _, _ := strings.Cut(tt.text, "\n")
			assert.Contains(t, back.Text, "> "+firstLine)
			assert.Equal(t, "Re: "+orig.Subject, back.Subject)
			assert.Equal(t, []string{"orig@example.com"}, back.InReplyTo)

			// Forward as attachment: the original bytes travel untouched
			// but for their line ends, made CRLF.
			fwd, err := Forward(orig, []byte(raw), &ForwardOptions{From: testFrom, To: []mail.Address{{Address: "x@example.com"}}, AsAttachment: true})
			require.NoError(t, err)
			out, err = Render(fwd, &RenderOptions{Now: fixedNow})
			require.NoError(t, err)
			back, err = Parse(bytes.NewReader(out), nil)
			require.NoError(t, err)
			require.Len(t, back.Attachments, 1)
			nested := back.Attachments[0].Message
			require.NotNil(t, nested)
			assert.Equal(t, orig.Subject, nested.Subject)
			assert.Equal(t, tt.text, crlfNorm(nested.Text))
			assert.Equal(t, toCRLF([]byte(raw)), back.Attachments[0].Data)
		})
	}
}

func b64(s string) string {
	var b bytes.Buffer
	writeBase64(&b, []byte(s))
	return strings.TrimSpace(b.String())
}
