package mysql

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/tributary-etl/tributary/apiserver"
)

// ArtifactChunkBytes is the size of one stored chunk of a binary: one row
// of artifact_chunks, one statement, far below MariaDB's default
// max_allowed_packet (16 MiB), and the memory one upload or one download
// holds at a time.
const ArtifactChunkBytes = 1 << 20

// StagedArtifactTTL is how long an upload's chunks may stay unnamed before
// the next upload deletes them: what a server that died mid-upload left.
const StagedArtifactTTL = 24 * time.Hour

// ErrUploadRead wraps an error reading the bytes being stored (the client
// went away, or sent too much), as opposed to a database error.
var ErrUploadRead = errors.New("read upload")

// Artifact is a stored binary. A staged one (StageArtifact) has its
// SHA256 computed but is not findable by it until NameArtifact.
type Artifact struct {
	ID     int64
	SHA256 string
	Size   int64
}

// StageArtifact streams r into new chunks of an unnamed artifact, hashing
// it as it goes; nothing but one chunk is ever held in memory. On error
// the chunks written so far are deleted.
func (db *DB) StageArtifact(ctx context.Context, r io.Reader) (Artifact, error) {
	// What a server that died mid-upload left behind; cheap, by the
	// unique index's NULLs.
	if _, err := db.db.ExecContext(ctx, "DELETE FROM artifacts WHERE sha256 IS NULL AND created_at < NOW(6) - INTERVAL ? SECOND",
		int64(StagedArtifactTTL/time.Second)); err != nil {
		return Artifact{}, fmt.Errorf("sweep staged artifacts: %w", err)
	}
	res, err := db.db.ExecContext(ctx, "INSERT INTO artifacts () VALUES ()")
	if err != nil {
		return Artifact{}, fmt.Errorf("stage artifact: %w", err)
	}
	a := Artifact{}
	if a.ID, err = res.LastInsertId(); err != nil {
		return a, fmt.Errorf("stage artifact: %w", err)
	}
	if err := db.writeChunks(ctx, &a, r); err != nil {
		db.DiscardArtifact(ctx, a.ID)
		return Artifact{}, err
	}
	return a, nil
}

// ChunksPerCommit is how many chunks one transaction inserts. One commit
// per chunk is an fsync per MiB (innodb_flush_log_at_trx_commit=1); one
// transaction for a whole 150 MB binary outgrows the redo log, and its
// inserts then stall past StatementTimeout on a busy server (seen: a
// 38 MB import failed at chunk 10). The artifact stays unnamed, so
// invisible, until every chunk is in.
const ChunksPerCommit = 8

// writeChunks inserts r's chunks, ChunksPerCommit per transaction, hashing
// and sizing a as it goes.
func (db *DB) writeChunks(ctx context.Context, a *Artifact, r io.Reader) error {
	h := sha256.New()
	buf := make([]byte, ArtifactChunkBytes)
	for seq, done := 0, false; !done; {
		err := db.Transact(ctx, func(tx *sql.Tx) error {
			ins, err := tx.PrepareContext(ctx, "INSERT INTO artifact_chunks (artifact_id, seq, data) VALUES (?, ?, ?)")
			if err != nil {
				return fmt.Errorf("stage artifact: %w", err)
			}
			defer ins.Close()
			for end := seq + ChunksPerCommit; seq < end && !done; seq++ {
				n, rerr := io.ReadFull(r, buf)
				if n > 0 {
					h.Write(buf[:n])
					if _, err := ins.ExecContext(ctx, a.ID, seq, buf[:n]); err != nil {
						return fmt.Errorf("stage artifact chunk %d: %w", seq, err)
					}
					a.Size += int64(n)
				}
				switch {
				case errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF):
					done = true
				case rerr != nil:
					return fmt.Errorf("%w: %w", ErrUploadRead, rerr)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	a.SHA256 = hex.EncodeToString(h.Sum(nil))
	return nil
}

// DiscardArtifact deletes a staged artifact and its chunks, logging
// nothing: it runs on paths that already report an error. It works on a
// cancelled ctx (the upload's request may be gone).
func (db *DB) DiscardArtifact(ctx context.Context, id int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), StatementTimeout)
	defer cancel()
	db.db.ExecContext(ctx, "DELETE FROM artifacts WHERE id = ? AND sha256 IS NULL", id)
}

// NameArtifact makes staged findable by its sha256. When the same bytes
// are stored already, staged is deleted and the stored copy serves: one
// copy per content. Call it under LockFunctionFile(staged.SHA256).
func (db *DB) NameArtifact(ctx context.Context, staged Artifact) error {
	_, err := db.db.ExecContext(ctx, "UPDATE artifacts SET sha256 = ?, size_bytes = ? WHERE id = ? AND sha256 IS NULL",
		staged.SHA256, staged.Size, staged.ID)
	if isMySQLError(err, errDupEntry) {
		db.DiscardArtifact(ctx, staged.ID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("name artifact: %w", err)
	}
	return nil
}

// DeleteArtifact deletes the binary with this sha256 and its chunks; a
// missing one is no error. Call it under LockFunctionFile(sha) once no
// function version names it.
func (db *DB) DeleteArtifact(ctx context.Context, sha string) error {
	if _, err := db.db.ExecContext(ctx, "DELETE FROM artifacts WHERE sha256 = ?", sha); err != nil {
		return fmt.Errorf("delete artifact: %w", err)
	}
	return nil
}

// OpenArtifact returns a reader of the binary with this sha256, or
// CodeNotFound.
func (db *DB) OpenArtifact(ctx context.Context, sha string) (*ArtifactReader, error) {
	var a Artifact
	err := db.db.QueryRowContext(ctx, "SELECT id, sha256, size_bytes FROM artifacts WHERE sha256 = ?", sha).Scan(&a.ID, &a.SHA256, &a.Size)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apiserver.Errorf(apiserver.CodeNotFound, "no stored binary has sha256 %s", sha)
	}
	if err != nil {
		return nil, fmt.Errorf("open artifact: %w", err)
	}
	return db.ArtifactReader(ctx, a), nil
}

// ArtifactReader reads a stored binary a chunk at a time, as an
// io.ReaderAt (wrap it in io.NewSectionReader for http.ServeContent). It
// keeps the context it was opened with, because io.ReaderAt has no
// context parameter: it is meant to live as long as one request. It holds
// the last chunk read and is not safe for concurrent use.
type ArtifactReader struct {
	db   *DB
	ctx  context.Context
	a    Artifact
	seq  int // the chunk in buf; -1: none
	buf  []byte
	stmt *sql.Stmt
}

// ArtifactReader returns a reader of a (staged or named), bound to ctx.
func (db *DB) ArtifactReader(ctx context.Context, a Artifact) *ArtifactReader {
	return &ArtifactReader{db: db, ctx: ctx, a: a, seq: -1}
}

// Size is the binary's length in bytes.
func (r *ArtifactReader) Size() int64 { return r.a.Size }

// ReadAt implements io.ReaderAt over the chunks.
func (r *ArtifactReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("artifact: negative offset")
	}
	n := 0
	for n < len(p) {
		if off >= r.a.Size {
			return n, io.EOF
		}
		seq := int(off / ArtifactChunkBytes)
		if seq != r.seq {
			if err := r.load(seq); err != nil {
				return n, err
			}
		}
		c := copy(p[n:], r.buf[off-int64(seq)*ArtifactChunkBytes:])
		n += c
		off += int64(c)
	}
	return n, nil
}

func (r *ArtifactReader) load(seq int) error {
	r.buf = r.buf[:0]
	err := r.db.db.QueryRowContext(r.ctx, "SELECT data FROM artifact_chunks WHERE artifact_id = ? AND seq = ?", r.a.ID, seq).Scan(&r.buf)
	if err != nil {
		r.seq = -1
		return fmt.Errorf("read artifact %s chunk %d: %w", r.a.SHA256, seq, err)
	}
	r.seq = seq
	return nil
}

// ImportArtifactFiles stores in the database every binary that a function
// version names but the database lacks, from dir (the artifact directory
// of servers before migration 11: one file per sha256). A file whose
// content does not match its name is skipped. It returns how many it
// imported and the sha256 of the versions still without a binary.
func (db *DB) ImportArtifactFiles(ctx context.Context, dir string, log *slog.Logger) (imported int, missing []string, err error) {
	rows, err := db.db.QueryContext(ctx, `SELECT DISTINCT f.sha256 FROM functions f
	  LEFT JOIN artifacts a ON a.sha256 = f.sha256 WHERE a.id IS NULL ORDER BY f.sha256`)
	if err != nil {
		return 0, nil, fmt.Errorf("list functions without a stored binary: %w", err)
	}
	var shas []string
	for rows.Next() {
		var sha string
		if err := rows.Scan(&sha); err != nil {
			rows.Close()
			return 0, nil, err
		}
		shas = append(shas, sha)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, nil, err
	}
	for _, sha := range shas {
		ok, err := db.importFile(ctx, filepath.Join(dir, filepath.Base(sha)), sha)
		if err != nil {
			return imported, missing, err
		}
		if !ok {
			missing = append(missing, sha)
			continue
		}
		imported++
		log.Info("artifact imported into the database", "sha256", sha)
	}
	return imported, missing, nil
}

func (db *DB) importFile(ctx context.Context, path, sha string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	staged, err := db.StageArtifact(ctx, f)
	if err != nil {
		return false, fmt.Errorf("import %s: %w", path, err)
	}
	if staged.SHA256 != sha {
		db.DiscardArtifact(ctx, staged.ID)
		return false, nil
	}
	return true, db.LockFunctionFile(ctx, sha, func() error { return db.NameArtifact(ctx, staged) })
}

// ArtifactBaseURL is the base URL every job of this installation downloads
// its function binary from, whichever API server renders the job: a job
// spec that depended on the server would make servers with different
// TRIBUTARY_PUBLIC_URL values redeploy each other's jobs in turn. When
// none is recorded yet, ifUnset is recorded (the first server to need one
// wins) and returned.
func (db *DB) ArtifactBaseURL(ctx context.Context, ifUnset string) (string, error) {
	var u sql.NullString
	if err := db.db.QueryRowContext(ctx, "SELECT artifact_base_url FROM installation WHERE id = 1").Scan(&u); err != nil {
		return "", fmt.Errorf("read artifact base URL: %w", err)
	}
	if u.Valid && u.String != "" {
		return u.String, nil
	}
	if _, err := db.db.ExecContext(ctx, "UPDATE installation SET artifact_base_url = ? WHERE id = 1 AND artifact_base_url IS NULL", ifUnset); err != nil {
		return "", fmt.Errorf("record artifact base URL: %w", err)
	}
	if err := db.db.QueryRowContext(ctx, "SELECT artifact_base_url FROM installation WHERE id = 1").Scan(&u); err != nil {
		return "", fmt.Errorf("read artifact base URL: %w", err)
	}
	return u.String, nil
}

// SetArtifactBaseURL records u as the installation's artifact base URL.
// Every job is rendered again with it at the next reconcile pass (a
// rolling update of each worker).
func (db *DB) SetArtifactBaseURL(ctx context.Context, u string) error {
	if _, err := db.db.ExecContext(ctx, "UPDATE installation SET artifact_base_url = ? WHERE id = 1", u); err != nil {
		return fmt.Errorf("record artifact base URL: %w", err)
	}
	return nil
}
