package imap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/emailflow/emailflow"
)

// sync takes in every message of the folder after the checkpoint, a
// window at a time.
func (r *reader) sync(ctx context.Context, s *conn) error {
	// Mail that arrives from here on is seen by this sync or signals the
	// next one.
	select {
	case <-s.newMail:
	default:
	}
	ws := r.in.ws
	cp, err := ws.Checkpoint(ctx, r.name)
	found := err == nil
	if err != nil && !errors.Is(err, emailflow.ErrNotFound) {
		return err
	}
	last, rescan := cp.Last, false
	switch {
	case !found:
		rescan = true
	case cp.Validity != s.validity:
		r.log.Warn("emailflow: imap: UIDVALIDITY changed: reading the folder again from its start; messages already taken in are recognised by Message-ID and size",
			"was", cp.Validity, "now", s.validity)
		last, rescan = 0, true
	}
	uids, err := newUIDs(s.c, last)
	if err != nil {
		return err
	}
	// Metadata for many windows per command. Bodies: where the messages
	// are left as they are, one FETCH for all of them, with a checkpoint
	// as each window is done; otherwise a window at a time, its
	// after-ingest action and checkpoint between two FETCHes.
	for len(uids) > 0 {
		batch := uids[:min(len(uids), r.metaBatch())]
		metas, err := r.meta(s, batch, rescan)
		if err != nil {
			return err
		}
		if r.mb.After == Leave {
			if err := r.stream(ctx, s, batch, metas, rescan); err != nil {
				return err
			}
			uids = uids[len(batch):]
			continue
		}
		for len(batch) > 0 {
			n := min(len(batch), r.in.opts.Window)
			if err := r.window(ctx, s, batch[:n], metas, rescan); err != nil {
				return err
			}
			batch, uids = batch[n:], uids[n:]
		}
	}
	return nil
}

// metaWindows is how many windows' metadata one command reads at the
// least, and metaMessages how many messages' at the least: a round trip
// to a busy server costs more than the few bytes of each message's
// flags and size.
const (
	metaWindows  = 4
	metaMessages = 1000
)

func (r *reader) metaBatch() int {
	return max(metaWindows*r.in.opts.Window, metaMessages)
}

// meta is what the Ingester knows of a message before fetching it.
type meta struct {
	flags     []imap.Flag
	size      int64
	messageID string
}

// meta reads the flags, size and (rescanning) Message-ID of uids. A
// message expunged meanwhile is missing from the answer.
func (r *reader) meta(s *conn, uids []imap.UID, rescan bool) (map[imap.UID]meta, error) {
	metas := make(map[imap.UID]meta, len(uids))
	opts := &imap.FetchOptions{UID: true, Flags: true, RFC822Size: true, Envelope: rescan}
	gone, err := s.fetchAll(uids, opts, func(f *fetched) (bool, error) {
		if f.size == 0 || (rescan && f.envelope == nil) {
			return false, nil // not this message's answer: ask again
		}
		m := meta{flags: f.flags, size: f.size}
		if f.envelope != nil {
			m.messageID = f.envelope.MessageID
		}
		metas[f.uid] = m
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	r.skipped(gone)
	return metas, nil
}

// newUIDs lists the UIDs after last of the messages not flagged \Deleted,
// in order.
func newUIDs(c *imapclient.Client, last uint32) ([]imap.UID, error) {
	if last == 1<<32-1 {
		return nil, nil
	}
	criteria := &imap.SearchCriteria{
		UID:     []imap.UIDSet{{imap.UIDRange{Start: imap.UID(last + 1), Stop: 0}}},
		NotFlag: []imap.Flag{imap.FlagDeleted},
	}
	data, err := c.UIDSearch(criteria, nil).Wait()
	if err != nil {
		return nil, fmt.Errorf("UID SEARCH: %w", err)
	}
	set, ok := data.All.(imap.UIDSet)
	if !ok {
		return nil, nil // no match
	}
	all, ok := set.Nums()
	if !ok {
		return nil, errors.New("UID SEARCH: the server answered with a dynamic set")
	}
	// "last+1:*" matches the last message even when its UID is lower.
	all = slices.DeleteFunc(all, func(u imap.UID) bool { return uint32(u) <= last })
	slices.Sort(all)
	return all, nil
}

// sorted is what window and stream do with a run of messages, decided
// from their metadata before any body is fetched.
type sorted struct {
	whole []imap.UID // to fetch whole and ingest
	large []imap.UID // to take in from their header
	known []imap.UID // taken in before (a rescan): only the after-ingest action
	// sizes are the large messages' sizes; -1 for one Ingest refused whole.
	sizes map[imap.UID]int64
}

// sort applies the size guard and, rescanning, recognises the messages
// already taken in. A message missing from metas (expunged before its
// metadata was read) or flagged \Deleted since the listing is in no list:
// skipped.
func (r *reader) sort(ctx context.Context, uids []imap.UID, metas map[imap.UID]meta, rescan bool) (*sorted, error) {
	so := &sorted{sizes: map[imap.UID]int64{}}
	for _, uid := range uids {
		m, ok := metas[uid]
		switch {
		case !ok, slices.Contains(m.flags, imap.FlagDeleted):
		case m.size > r.mb.MaxSize:
			so.large = append(so.large, uid)
			so.sizes[uid] = m.size
		case rescan && m.messageID != "":
			known, err := r.in.ws.Ingested(ctx, r.mb.Deliver, m.messageID, m.size)
			if err != nil {
				return nil, err
			}
			if known {
				so.known = append(so.known, uid)
			} else {
				so.whole = append(so.whole, uid)
			}
		default:
			so.whole = append(so.whole, uid)
		}
	}
	return so, nil
}

// bodyOpts fetch a whole body without flagging it \Seen.
var bodyOpts = &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}

// ingestBodies fetches uids whole and ingests each as it comes. took is
// told of each message taken in; a message Ingest refuses as too large is
// added to so.large instead (its header is taken in after).
func (r *reader) ingestBodies(ctx context.Context, s *conn, uids []imap.UID, so *sorted, took func(imap.UID) error) (gone []imap.UID, err error) {
	return s.fetchBodies(uids, func(uid imap.UID, body io.Reader) error {
		_, err := r.in.ws.Ingest(ctx, r.mb.Deliver, body)
		switch {
		case errors.Is(err, emailflow.ErrTooLarge):
			r.log.Warn("emailflow: imap: message refused whole; taking in its header", "uid", uid, "err", err)
			so.large = append(so.large, uid)
			so.sizes[uid] = -1
			return nil
		case err != nil:
			return fmt.Errorf("ingesting UID %d: %w", uid, err)
		}
		return took(uid)
	})
}

// ingestHeaders fetches the header of each message of uids and takes it
// in with a note saying why (so.sizes); took is told of each.
func (r *reader) ingestHeaders(ctx context.Context, s *conn, uids []imap.UID, so *sorted, took func(imap.UID) error) (gone []imap.UID, err error) {
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
	opts := &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}
	return s.fetchAll(uids, opts, func(f *fetched) (bool, error) {
		if f.body == nil {
			return false, nil
		}
		if _, err := r.in.ws.IngestHeader(ctx, r.mb.Deliver, f.body, r.reason(so.sizes[f.uid])); err != nil {
			return false, fmt.Errorf("ingesting the header of UID %d: %w", f.uid, err)
		}
		return true, took(f.uid)
	})
}

// window takes in the messages of uids, gives the ones done their
// after-ingest action, and moves the checkpoint past the window. On an
// error nothing of the window is checkpointed: it is read again after
// reconnecting, and Ingest takes in nothing twice.
func (r *reader) window(ctx context.Context, s *conn, uids []imap.UID, metas map[imap.UID]meta, rescan bool) error {
	so, err := r.sort(ctx, uids, metas, rescan)
	if err != nil {
		return err
	}
	done := so.known
	if len(so.whole) > 0 {
		gone, err := r.ingestBodies(ctx, s, so.whole, so, func(uid imap.UID) error {
			done = append(done, uid)
			return nil
		})
		if err != nil {
			return err
		}
		r.skipped(gone)
	}
	if len(so.large) > 0 {
		var got []imap.UID
		gone, err := r.ingestHeaders(ctx, s, so.large, so, func(uid imap.UID) error {
			got = append(got, uid)
			return nil
		})
		if err != nil {
			return err
		}
		r.skipped(gone)
		if err := r.after(s, got, true); err != nil {
			return err
		}
	}
	if err := r.after(s, done, false); err != nil {
		return err
	}
	// Every UID of the window is done: taken in, skipped, or gone.
	return r.checkpoint(ctx, s, uids[len(uids)-1])
}

// checkpoint moves the mailbox's checkpoint to last.
func (r *reader) checkpoint(ctx context.Context, s *conn, last imap.UID) error {
	_, err := r.in.ws.SaveCheckpoint(ctx, emailflow.Checkpoint{Source: r.name, Validity: s.validity, Last: uint32(last)})
	return err
}

// stream takes in the messages of batch, which are left in the folder as
// they are (Leave), with one FETCH of all their bodies: no command
// between two windows, so the server sends without pause. The checkpoint
// moves past a window as soon as every message of it and of the windows
// before it is done (taken in, skipped or gone), exactly where window
// would have put it; a failure leaves it before the first window not
// done.
func (r *reader) stream(ctx context.Context, s *conn, batch []imap.UID, metas map[imap.UID]meta, rescan bool) error {
	so, err := r.sort(ctx, batch, metas, rescan)
	if err != nil {
		return err
	}
	w := newWindows(batch, r.in.opts.Window)
	for _, uid := range so.whole {
		w.wait(uid)
	}
	for _, uid := range so.large {
		w.wait(uid)
	}
	took := func(uid imap.UID) error {
		w.done(uid)
		return r.advance(ctx, s, w)
	}
	if len(so.whole) > 0 {
		// A message Ingest refuses whole joins so.large, still waited for.
		gone, err := r.ingestBodies(ctx, s, so.whole, so, took)
		if err != nil {
			return err
		}
		r.skipped(gone)
		for _, uid := range gone {
			w.done(uid)
		}
	}
	if len(so.large) > 0 {
		gone, err := r.ingestHeaders(ctx, s, so.large, so, took)
		if err != nil {
			return err
		}
		r.skipped(gone)
		for _, uid := range gone {
			w.done(uid)
		}
	}
	if err := r.advance(ctx, s, w); err != nil {
		return err
	}
	if w.next < len(w.left) {
		// Every message was taken in, skipped or gone: unreachable.
		return fmt.Errorf("imap: window %d of a batch left undone", w.next+1)
	}
	return nil
}

// advance moves the checkpoint past the windows done, in one write.
func (r *reader) advance(ctx context.Context, s *conn, w *windows) error {
	last, ok := w.ready()
	if !ok {
		return nil
	}
	return r.checkpoint(ctx, s, last)
}

// windows follows which windows of a batch are done: how many of each
// window's messages are still to be taken in, and the first window whose
// checkpoint is not yet written. The server may answer a FETCH in any
// order; a window is done only when all of it is.
type windows struct {
	batch []imap.UID // sorted
	size  int
	left  []int
	next  int
}

func newWindows(batch []imap.UID, size int) *windows {
	return &windows{batch: batch, size: size, left: make([]int, (len(batch)+size-1)/size)}
}

func (w *windows) of(uid imap.UID) int {
	i, _ := slices.BinarySearch(w.batch, uid)
	return i / w.size
}

// wait counts uid as a message to be taken in.
func (w *windows) wait(uid imap.UID) { w.left[w.of(uid)]++ }

// done counts uid as taken in (or gone).
func (w *windows) done(uid imap.UID) { w.left[w.of(uid)]-- }

// ready returns the last UID of the windows done since the last call,
// and false when none is.
func (w *windows) ready() (imap.UID, bool) {
	start := w.next
	for w.next < len(w.left) && w.left[w.next] == 0 {
		w.next++
	}
	if w.next == start {
		return 0, false
	}
	return w.batch[min(w.next*w.size, len(w.batch))-1], true
}

// skipped logs the messages that were gone when fetched.
func (r *reader) skipped(gone []imap.UID) {
	if len(gone) > 0 {
		r.log.Info("emailflow: imap: messages expunged before they could be fetched: skipped", "uids", imap.UIDSetNum(gone...).String())
	}
}

// fetched is one message of a FETCH answer.
type fetched struct {
	uid      imap.UID
	flags    []imap.Flag
	size     int64
	envelope *imap.Envelope
	body     *literal // to be read before the next message
}

// fetchAll runs UID FETCH of uids with opts and hands each message
// answered to take, which reports whether the answer held what was asked:
// a server may slip another client's flag change into the answer, in a
// response the client counts as the message's own. The messages take did
// not get are asked for once more; those still missing were expunged
// meanwhile, and fetchAll returns them. It stops at take's first error,
// abandoning the command (the connection is then closed).
func (s *conn) fetchAll(uids []imap.UID, opts *imap.FetchOptions, take func(*fetched) (bool, error)) (gone []imap.UID, err error) {
	todo := uids
	for try := 0; try < 2 && len(todo) > 0; try++ {
		got := make(map[imap.UID]bool, len(todo))
		set := imap.UIDSetNum(todo...)
		cmd := s.c.Fetch(set, opts)
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			broken, err := readMessage(msg, func(f *fetched) (bool, error) {
				if f.uid == 0 || !set.Contains(f.uid) || got[f.uid] {
					return false, nil
				}
				ok, err := take(f)
				got[f.uid] = ok
				return ok, err
			})
			if err != nil {
				s.abandon(cmd, broken)
				return nil, err
			}
		}
		if err := cmd.Close(); err != nil && !expungeIssued(err) {
			return nil, fmt.Errorf("UID FETCH: %w", err)
		}
		todo = slices.DeleteFunc(slices.Clone(todo), func(u imap.UID) bool { return got[u] })
	}
	return todo, nil
}

// readMessage reads a message's items and hands them to take: at its
// body section, whose literal must be read then, or at its end. On take's
// error it reports whether the body's reading had failed (the connection
// broke under it).
func readMessage(msg *imapclient.FetchMessageData, take func(*fetched) (bool, error)) (broken bool, err error) {
	f := &fetched{}
	handed := false
	for item := msg.Next(); item != nil; item = msg.Next() {
		switch it := item.(type) {
		case imapclient.FetchItemDataUID:
			f.uid = it.UID
		case imapclient.FetchItemDataFlags:
			f.flags = it.Flags
		case imapclient.FetchItemDataRFC822Size:
			f.size = it.Size
		case imapclient.FetchItemDataEnvelope:
			f.envelope = it.Envelope
		case imapclient.FetchItemDataBodySection:
			if handed || it.Literal == nil {
				continue
			}
			f.body = newLiteral(it.Literal)
			handed = true
			if _, err := take(f); err != nil {
				return f.body.failed, err
			}
		}
	}
	if !handed {
		_, err := take(f)
		return false, err
	}
	return false, nil
}

// expungeIssued reports a FETCH refused because some of its messages were
// expunged meanwhile (RFC 2180's EXPUNGEISSUED): the others were sent.
func expungeIssued(err error) bool {
	var ie *imap.Error
	return errors.As(err, &ie) && ie.Code == "EXPUNGEISSUED"
}

// reason is the note of a message taken in from its header: why, and
// where the whole message is.
func (r *reader) reason(size int64) string {
	where := r.mb.Folder
	if r.mb.After == Move {
		where = r.mb.MoveTo
	}
	if size < 0 {
		return fmt.Sprintf("This message could not be taken in whole (over the desk's limits): only its header was. The whole message is in the folder %q of %s.", where, r.name)
	}
	return fmt.Sprintf("This message of %s is over the %s limit: only its header was taken in. The whole message is in the folder %q of %s.",
		megabytes(size), megabytes(r.mb.MaxSize), where, r.name)
}

// megabytes writes a size for people: "31.5 MB", or "840 KB" under a
// megabyte.
func megabytes(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d KB", (n+1023)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

// after gives the messages of set the mailbox's after-ingest action.
// large says they were taken in from their header: those are never
// deleted, only flagged \Seen.
func (r *reader) after(s *conn, uids []imap.UID, large bool) error {
	if len(uids) == 0 {
		return nil
	}
	set := imap.UIDSetNum(uids...)
	action := r.mb.After
	if large && action == Delete {
		action = MarkSeen
	}
	switch action {
	case MarkSeen:
		return addFlag(s.c, set, imap.FlagSeen)
	case Delete:
		if err := addFlag(s.c, set, imap.FlagDeleted); err != nil {
			return err
		}
		return s.expunge(set)
	case Move:
		if s.caps.Has(imap.CapMove) {
			if _, err := s.c.Move(set, r.mb.MoveTo).Wait(); err != nil {
				return fmt.Errorf("UID MOVE to %q: %w", r.mb.MoveTo, err)
			}
			return nil
		}
		if _, err := s.c.Copy(set, r.mb.MoveTo).Wait(); err != nil {
			return fmt.Errorf("UID COPY to %q: %w", r.mb.MoveTo, err)
		}
		if err := addFlag(s.c, set, imap.FlagDeleted); err != nil {
			return err
		}
		return s.expunge(set)
	}
	return nil
}

func addFlag(c *imapclient.Client, set imap.UIDSet, flag imap.Flag) error {
	store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{flag}}
	if err := c.Store(set, store, nil).Close(); err != nil {
		return fmt.Errorf("UID STORE +FLAGS.SILENT (%s): %w", flag, err)
	}
	return nil
}

// expunge removes the messages of set, flagged \Deleted, where the server
// can remove only those (UIDPLUS); elsewhere they stay flagged, skipped by
// every listing, for the next EXPUNGE of any client.
func (s *conn) expunge(set imap.UIDSet) error {
	if !s.caps.Has(imap.CapUIDPlus) {
		return nil
	}
	if err := s.c.UIDExpunge(set).Close(); err != nil {
		return fmt.Errorf("UID EXPUNGE: %w", err)
	}
	return nil
}

// errCutShort reports a message whose bytes stopped before its announced
// size: the connection broke.
var errCutShort = errors.New("imap: message cut short")

// literal streams one fetched body into Ingest. Len tells Ingest the size
// (it then reads into one buffer of exactly that), and a body that ends
// early is an error, never a shorter message.
type literal struct {
	r    io.Reader
	size int64
	read int64
	// failed says a Read failed before the end: the client's reader then
	// goes on with the connection, and the literal must not be read again.
	failed bool
}

func newLiteral(lit imap.LiteralReader) *literal {
	if lit == nil {
		return &literal{}
	}
	return &literal{r: lit, size: lit.Size()}
}

func (l *literal) Read(p []byte) (int, error) {
	if l.r == nil {
		return 0, io.EOF
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	if err != nil && !(err == io.EOF && l.read == l.size) {
		l.failed = true
	}
	if (err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF)) && l.read < l.size {
		return n, fmt.Errorf("%w after %d of %d bytes", errCutShort, l.read, l.size)
	}
	return n, err
}

// Len returns the number of bytes left.
func (l *literal) Len() int { return int(l.size - l.read) }
