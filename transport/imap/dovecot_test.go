package imap_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"mime/quotedprintable"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"

	"github.com/emailflow/emailflow"
	eimap "github.com/emailflow/emailflow/transport/imap"
)

// dovecotServer is a real Dovecot, as .ci/dovecot.sh starts one.
type dovecotServer struct {
	addr, user, password string
}

// dovecot returns the Dovecot the environment names, or skips the test
// when there is none; under CI=true a missing Dovecot is a failure.
func dovecot(t testing.TB) dovecotServer {
	t.Helper()
	d := dovecotServer{os.Getenv("EMAILFLOW_DOVECOT_ADDR"), os.Getenv("EMAILFLOW_DOVECOT_USER"), os.Getenv("EMAILFLOW_DOVECOT_PASSWORD")}
	if d.addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but no Dovecot: EMAILFLOW_DOVECOT_ADDR is not set (.ci/run starts one with .ci/dovecot.sh)")
		}
		t.Skip("no Dovecot configured: `eval $(.ci/dovecot.sh start $(mktemp -d))` starts one and sets EMAILFLOW_DOVECOT_ADDR")
	}
	return d
}

func (d dovecotServer) client(t testing.TB) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(d.addr, nil)
	require.NoError(t, err)
	require.NoError(t, c.Login(d.user, d.password).Wait())
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// folders creates two folders of a name of their own (the mailbox and
// its archive), deleted at the end of the test.
func (d dovecotServer) folders(t testing.TB) (inbox, archive string) {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	inbox = "ef-" + hex.EncodeToString(b[:])
	archive = inbox + "-archive"
	c := d.client(t)
	require.NoError(t, c.Create(inbox, nil).Wait())
	t.Cleanup(func() {
		c := d.client(t)
		_ = c.Delete(inbox).Wait()
		_ = c.Delete(archive).Wait()
		_ = c.Logout().Wait()
	})
	return inbox, archive
}

// appendAll appends msgs to folder through one connection.
func (d dovecotServer) appendAll(t testing.TB, folder string, msgs [][]byte) {
	t.Helper()
	c := d.client(t)
	for _, m := range msgs {
		cmd := c.Append(folder, int64(len(m)), nil)
		_, err := cmd.Write(m)
		require.NoError(t, err)
		require.NoError(t, cmd.Close())
		_, err = cmd.Wait()
		require.NoError(t, err)
	}
	require.NoError(t, c.Logout().Wait())
}

// count returns the number of messages in folder.
func (d dovecotServer) count(t testing.TB, folder string) uint32 {
	t.Helper()
	c := d.client(t)
	data, err := c.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
	require.NoError(t, err)
	require.NoError(t, c.Logout().Wait())
	return *data.NumMessages
}

const oversize = 500 // the number of the 30 MB message

// variedMessage returns message n of a contact centre's day: French text
// in UTF-8 or Latin-1, HTML alternatives, attachments, replies to earlier
// messages, a few without a Message-ID; its Subject carries "[efmsg n]",
// its From a sender of its own.
// Message oversize has a 30 MB attachment.
func variedMessage(n int, rng *mrand.Rand) []byte {
	var b bytes.Buffer
	subject := fmt.Sprintf("Réclamation commande FR-%05d [efmsg %d]", n, n)
	fmt.Fprintf(&b, "From: Client %d <client%d@exemple.fr>\r\n", n, n)
	b.WriteString("To: Service Client <support@boutique.example>\r\n")
	fmt.Fprintf(&b, "Subject: =?UTF-8?B?%s?=\r\n", base64.StdEncoding.EncodeToString([]byte(subject)))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC).Add(time.Duration(n)*time.Minute).Format(time.RFC1123Z))
	if n%97 != 0 {
		fmt.Fprintf(&b, "Message-ID: <efmsg-%d@mail.exemple.fr>\r\n", n)
	}
	if n%5 == 4 && n > 10 {
		fmt.Fprintf(&b, "In-Reply-To: <efmsg-%d@mail.exemple.fr>\r\n", n-5)
	}
	b.WriteString("MIME-Version: 1.0\r\n")
	text := fmt.Sprintf("Bonjour,\r\n\r\nJe n'ai toujours pas reçu ma commande FR-%05d, passée il y a dix jours. "+
		"Le suivi indique « en cours de livraison » depuis une semaine.\r\nPouvez-vous vérifier où en est mon colis ?\r\n\r\nCordialement,\r\nClient %d\r\n", n, n)
	attach := func(name, ctype string, size int) {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		fmt.Fprintf(&b, "--mix\r\nContent-Type: %s; name=%q\r\nContent-Disposition: attachment; filename=%q\r\nContent-Transfer-Encoding: base64\r\n\r\n", ctype, name, name)
		enc := base64.StdEncoding.EncodeToString(data)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n")
	}
	switch {
	case n == oversize:
		b.WriteString("Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n--mix\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text)
		attach("vidéo-colis.mp4", "video/mp4", 30<<20*3/4)
		b.WriteString("--mix--\r\n")
	case n%5 == 0:
		b.WriteString("Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n--mix\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text)
		attach(fmt.Sprintf("facture-%d.pdf", n), "application/pdf", 2000+rng.IntN(60000))
		if n%10 == 0 {
			attach("photo-colis.jpg", "image/jpeg", 5000+rng.IntN(80000))
		}
		b.WriteString("--mix--\r\n")
	case n%5 == 1:
		b.WriteString("Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text)
		b.WriteString("--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>" + strings.ReplaceAll(text, "\r\n", "<br>") + "</p></body></html>\r\n--alt--\r\n")
	case n%5 == 2:
		latin, _ := charmap.ISO8859_1.NewEncoder().String(text)
		var qp bytes.Buffer
		w := quotedprintable.NewWriter(&qp)
		_, _ = w.Write([]byte(latin))
		_ = w.Close()
		b.WriteString("Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(qp.String(), "\r\n", "\n"), "\n", "\r\n"))
	default:
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text)
	}
	return b.Bytes()
}

func variedMessages(count int) [][]byte {
	rng := mrand.New(mrand.NewPCG(1, 2))
	out := make([][]byte, 0, count)
	for n := 1; n <= count; n++ {
		out = append(out, variedMessage(n, rng))
	}
	return out
}

var efmsg = regexp.MustCompile(`\[efmsg (\d+)\]`)

// emailsByNumber counts the inbound emails of the desk by message number,
// and returns the email of number n.
func emailsByNumber(t testing.TB, d *desk, n int) (map[int]int, *emailflow.Email, []string) {
	t.Helper()
	ctx := context.Background()
	its, err := d.ws.As(admin).Interactions(ctx, emailflow.Query{})
	require.NoError(t, err)
	count := map[int]int{}
	var found *emailflow.Email
	var notes []string
	for _, it := range its {
		emails, err := d.ws.As(admin).Emails(ctx, it.ID)
		require.NoError(t, err)
		for _, e := range emails {
			if e.Direction != emailflow.Inbound {
				continue
			}
			m := efmsg.FindStringSubmatch(e.Subject)
			require.NotNil(t, m, "subject %q", e.Subject)
			k, _ := strconv.Atoi(m[1])
			count[k]++
			if k == n {
				found = e
				for _, note := range it.Notes {
					notes = append(notes, note.Text)
				}
			}
		}
	}
	return count, found, notes
}

// TestDovecot: 1,000 varied messages in a real Dovecot; an Ingester is
// stopped in the middle of a fetch, a new one takes over; every message
// is taken in exactly once, the 30 MB one from its header, and the folder
// ends empty, its messages in the archive.
func TestDovecot(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 messages: not in -short")
	}
	dc := dovecot(t)
	inbox, archive := dc.folders(t)
	const total = 1000
	dc.appendAll(t, inbox, variedMessages(total))
	require.EqualValues(t, total, dc.count(t, inbox))

	// The first Ingester is stopped as the 426th message is taken in:
	// in the middle of the FETCH of its ninth window of 50.
	d, ctx := stopDesk(t, 426)
	mb := eimap.Mailbox{
		Addr: dc.addr, TLS: eimap.TLSNone, InsecureLoopbackAuth: true,
		Username: dc.user, Password: dc.password,
		Folder: inbox, Deliver: deliver, After: eimap.Move, MoveTo: archive,
	}
	opts := &eimap.Options{Window: 50, MaxSize: 25 << 20, MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
	first, err := eimap.NewIngester(d.ws, []eimap.Mailbox{mb}, opts)
	require.NoError(t, err)
	require.ErrorIs(t, first.Run(ctx), context.Canceled)
	count, _, _ := emailsByNumber(t, d, 0)
	assert.Len(t, count, 425, "messages 1 to 425 are in")
	assert.EqualValues(t, total-400, dc.count(t, inbox), "eight windows moved; the ninth, half taken in, not")
	cp, err := d.ws.Checkpoint(t.Context(), mb.Name())
	require.NoError(t, err)
	assert.EqualValues(t, 400, cp.Last)

	// A new Ingester takes over; it watches the folder with IDLE.
	second, err := eimap.NewIngester(d.ws, []eimap.Mailbox{mb}, opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- second.Run(ctx) }()
	waitFor := func(n int) {
		deadline := time.Now().Add(5 * time.Minute)
		for time.Now().Before(deadline) {
			if count, _, _ := emailsByNumber(t, d, 0); len(count) >= n {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("fewer than %d messages taken in after 5 minutes", n)
	}
	waitFor(total)
	// New mail comes by IDLE.
	rng := mrand.New(mrand.NewPCG(3, 4))
	dc.appendAll(t, inbox, [][]byte{variedMessage(total+1, rng)})
	waitFor(total + 1)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)

	count, large, notes := emailsByNumber(t, d, oversize)
	for n := 1; n <= total+1; n++ {
		assert.Equal(t, 1, count[n], "message %d taken in once", n)
	}
	assert.Len(t, count, total+1)
	require.NotNil(t, large)
	assert.Empty(t, large.Attachments, "the 30 MB message: header only")
	assert.Less(t, len(large.Raw), 4096)
	require.Len(t, notes, 1)
	assert.Contains(t, notes[0], "is over the 25.0 MB limit")
	assert.Contains(t, notes[0], archive, "the note says where the whole message is")

	assert.Zero(t, dc.count(t, inbox), "every message moved out")
	assert.EqualValues(t, total+1, dc.count(t, archive), "into the archive, once each")
}

// TestDovecotExpunged: a message expunged by another client after the
// Ingester listed the folder is skipped; the rest are taken in.
func TestDovecotExpungedWhileListed(t *testing.T) {
	dc := dovecot(t)
	inbox, _ := dc.folders(t)
	msgs := variedMessages(6)
	dc.appendAll(t, inbox, msgs)
	other := dc.client(t)
	_, err := other.Select(inbox, nil).Wait()
	require.NoError(t, err)
	// Message 3 is expunged by another client as the first message is
	// taken in: the Ingester listed it, and its FETCH is under way.
	d := newDeskWith(t, func(dir emailflow.Directory) emailflow.Directory {
		return &onNth{Directory: dir, at: 1, fn: func() {
			require.NoError(t, other.Store(imap.UIDSetNum(3), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close())
			require.NoError(t, other.UIDExpunge(imap.UIDSetNum(3)).Close())
		}}
	})
	mb := eimap.Mailbox{Addr: dc.addr, TLS: eimap.TLSNone, InsecureLoopbackAuth: true, Username: dc.user, Password: dc.password,
		Folder: inbox, Deliver: deliver, After: eimap.MarkSeen}
	in, err := eimap.NewIngester(d.ws, []eimap.Mailbox{mb}, &eimap.Options{Window: 6})
	require.NoError(t, err)
	require.NoError(t, in.Sync(t.Context()), "no error")
	count, _, _ := emailsByNumber(t, d, 0)
	// Dovecot may still send a message expunged by another session while
	// this one has not been told (it keeps the file open): taken in or
	// skipped, never twice and never an error.
	for n := 1; n <= 6; n++ {
		if n == 3 {
			assert.LessOrEqual(t, count[n], 1)
			continue
		}
		assert.Equal(t, 1, count[n], "message %d", n)
	}
}
