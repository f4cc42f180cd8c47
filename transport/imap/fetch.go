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
	// Metadata for a few windows per command, bodies a window at a time:
	// fewer round trips, and a checkpoint after every window.
	for len(uids) > 0 {
		batch := uids[:min(len(uids), metaWindows*r.in.opts.Window)]
		metas, err := r.meta(s, batch, rescan)
		if err != nil {
			return err
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

// metaWindows is how many windows' metadata one command reads.
const metaWindows = 4

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

// window takes in the messages of uids, gives the ones done their
// after-ingest action, and moves the checkpoint past the window. On an
// error nothing of the window is checkpointed: it is read again after
// reconnecting, and Ingest takes in nothing twice.
func (r *reader) window(ctx context.Context, s *conn, uids []imap.UID, metas map[imap.UID]meta, rescan bool) error {
	ws := r.in.ws
	var whole, large, done []imap.UID
	sizes := make(map[imap.UID]int64, len(uids))
	// The size guard decides before any body is fetched.
	for _, uid := range uids {
		m, ok := metas[uid]
		switch {
		case !ok:
			// Expunged before its metadata was read.
		case slices.Contains(m.flags, imap.FlagDeleted):
			// Flagged since the listing: skipped like the others.
		case m.size > r.mb.MaxSize:
			large = append(large, uid)
			sizes[uid] = m.size
		case rescan && m.messageID != "":
			known, err := ws.Ingested(ctx, r.mb.Deliver, m.messageID, m.size)
			if err != nil {
				return err
			}
			if known {
				done = append(done, uid)
			} else {
				whole = append(whole, uid)
			}
		default:
			whole = append(whole, uid)
		}
	}
	if len(whole) > 0 {
		bodyOpts := &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}
		gone, err := s.fetchAll(whole, bodyOpts, func(f *fetched) (bool, error) {
			if f.body == nil {
				return false, nil
			}
			_, err := ws.Ingest(ctx, r.mb.Deliver, newLiteral(f.body))
			switch {
			case errors.Is(err, emailflow.ErrTooLarge):
				r.log.Warn("emailflow: imap: message refused whole; taking in its header", "uid", f.uid, "err", err)
				large = append(large, f.uid)
				sizes[f.uid] = -1
			case err != nil:
				return false, fmt.Errorf("ingesting UID %d: %w", f.uid, err)
			default:
				done = append(done, f.uid)
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		r.skipped(gone)
	}
	if len(large) > 0 {
		section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
		var got []imap.UID
		gone, err := s.fetchAll(large, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}, func(f *fetched) (bool, error) {
			if f.body == nil {
				return false, nil
			}
			if _, err := ws.IngestHeader(ctx, r.mb.Deliver, newLiteral(f.body), r.reason(sizes[f.uid])); err != nil {
				return false, fmt.Errorf("ingesting the header of UID %d: %w", f.uid, err)
			}
			got = append(got, f.uid)
			return true, nil
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
	_, err := ws.SaveCheckpoint(ctx, emailflow.Checkpoint{Source: r.name, Validity: s.validity, Last: uint32(uids[len(uids)-1])})
	return err
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
	body     imap.LiteralReader // to be read before the next message
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
			err := readMessage(msg, func(f *fetched) (bool, error) {
				if f.uid == 0 || !set.Contains(f.uid) || got[f.uid] {
					return false, nil
				}
				ok, err := take(f)
				got[f.uid] = ok
				return ok, err
			})
			if err != nil {
				s.abandon(cmd)
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
// body section, whose literal must be read then, or at its end.
func readMessage(msg *imapclient.FetchMessageData, take func(*fetched) (bool, error)) error {
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
			f.body = it.Literal
			handed = true
			if _, err := take(f); err != nil {
				return err
			}
		}
	}
	if !handed {
		_, err := take(f)
		return err
	}
	return nil
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
	if (err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF)) && l.read < l.size {
		return n, fmt.Errorf("%w after %d of %d bytes", errCutShort, l.read, l.size)
	}
	return n, err
}

// Len returns the number of bytes left.
func (l *literal) Len() int { return int(l.size - l.read) }
