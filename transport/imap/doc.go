// Package imap takes mail into a Workspace from IMAP mailboxes (Microsoft
// 365, Gmail, Dovecot…), with github.com/emersion/go-imap/v2.
//
// An Ingester watches one or more mailboxes, each with its own server,
// credentials (a password, or OAuth 2.0 tokens from an
// oauth2.TokenSource), folder and Workspace mailbox, and hands every new
// message to Workspace.Ingest:
//
//   - Exactly once across restarts. A checkpoint per mailbox (UIDVALIDITY
//     and the last UID done) is kept through the Workspace's Store (see
//     emailflow.Checkpoint), moved only once a window of messages was
//     ingested and given its after-ingest action. A crash in between
//     fetches that window again, and Ingest, which is idempotent (the
//     same Message-ID and bytes), takes in nothing twice. When the
//     folder's UIDVALIDITY changes the folder is read again from the
//     start: a message the Workspace has (same Message-ID and size,
//     Workspace.Ingested) is not fetched again, and any other goes
//     through Ingest, which deduplicates.
//   - IDLE where the server has it, re-issued every Options.IdleTimeout
//     (under the 29 minutes servers allow), polling every
//     Options.PollInterval otherwise; lost connections are opened again
//     after a capped exponential backoff with jitter. Run returns when its
//     context ends, logging out.
//   - A size guard: RFC822.SIZE is read before the body, and a message
//     over the limit is taken in from its header alone, with a note saying
//     why (Workspace.IngestHeader), then checkpointed: it is never fetched
//     again.
//   - After ingest (Mailbox.After): leave the message, flag it \Seen, move
//     it to a folder (MOVE, or COPY, \Deleted and UID EXPUNGE) or delete
//     it. Messages flagged \Deleted are skipped; one expunged between the
//     listing and the fetch is skipped without error.
//   - Bounded memory: metadata is read a window at a time
//     (Options.Window) and bodies one at a time, each streamed from the
//     connection into Ingest.
//
// Credentials are sent only over TLS, unless a mailbox on a loopback
// address opts out (Mailbox.InsecureLoopbackAuth). No password or token is
// logged or put in an error.
package imap
