package mysql

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/shared/stacktest"
)

func migrated(t testing.TB) *DB {
	t.Helper()
	sqldb, _ := stacktest.MySQL(t)
	db := New(sqldb)
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestArtifactURLIsTheInstallations: servers with different public URLs
// render the same artifact URL, the first one recorded, so that none
// redeploys the jobs another registered; an explicit setting replaces it.
func TestArtifactURLIsTheInstallations(t *testing.T) {
	ctx := t.Context()
	db := migrated(t)
	if _, err := db.db.ExecContext(ctx, "INSERT INTO functions (name, version, sha256, size_bytes) VALUES ('f', '1', REPEAT('ab', 32), 1)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.ExecContext(ctx, `INSERT INTO consumer_configs (consumer_name, topics_input, topics_output,
	  kafka_bootstrap_server, function_name, function_version, desired_state) VALUES ('w', '["a"]', '[]', 'k:9092', 'f', '1', 'running')`); err != nil {
		t.Fatal(err)
	}
	urls := map[string]bool{}
	for _, public := range []string{"http://api-1:8080", "http://api-2:8080"} {
		specs, err := db.Desired(JobSettings{PublicURL: public}, nil).Workers(ctx)
		if err != nil || len(specs) != 1 {
			t.Fatalf("specs %+v, %v", specs, err)
		}
		urls[specs[0].ArtifactURL] = true
	}
	if len(urls) != 1 || !urls["http://api-1:8080/artifacts/f/1"] {
		t.Errorf("artifact URLs %v, want only the first server's", urls)
	}
	if err := db.SetArtifactBaseURL(ctx, "http://artifacts.internal"); err != nil {
		t.Fatal(err)
	}
	if u, err := db.ArtifactBaseURL(ctx, "http://api-2:8080"); err != nil || u != "http://artifacts.internal" {
		t.Errorf("after SetArtifactBaseURL: %q, %v", u, err)
	}
}

// TestImportArtifactFiles moves binaries servers kept on disk before
// migration 11 into the database, skipping a file whose bytes do not match
// its name and reporting versions left without one.
func TestImportArtifactFiles(t *testing.T) {
	ctx := t.Context()
	db := migrated(t)
	dir := t.TempDir()
	good := randomBytes(t, 2*ArtifactChunkBytes+17)
	sum := sha256.Sum256(good)
	goodSHA := hex.EncodeToString(sum[:])
	badSHA, goneSHA := hex.EncodeToString(make([]byte, 32)), fmt.Sprintf("%064x", 1)
	os.WriteFile(filepath.Join(dir, goodSHA), good, 0o600)
	os.WriteFile(filepath.Join(dir, badSHA), []byte("not what the name says"), 0o600)
	for i, sha := range []string{goodSHA, badSHA, goneSHA} {
		if _, err := db.db.ExecContext(ctx, "INSERT INTO functions (name, version, sha256, size_bytes) VALUES ('f', ?, ?, 1)", fmt.Sprint(i), sha); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, missing, err := db.ImportArtifactFiles(ctx, dir, log)
	if err != nil || n != 1 || len(missing) != 2 {
		t.Fatalf("import: %d imported, missing %v, %v; want 1 and 2 missing", n, missing, err)
	}
	r, err := db.OpenArtifact(ctx, goodSHA)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil || !bytes.Equal(got, good) {
		t.Errorf("imported binary: %d bytes, %v; equal %v", len(got), err, bytes.Equal(got, good))
	}
	var staged int
	db.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM artifacts WHERE sha256 IS NULL").Scan(&staged)
	if staged != 0 {
		t.Errorf("%d staged artifacts left by the import", staged)
	}
	if n, _, err := db.ImportArtifactFiles(ctx, dir, log); err != nil || n != 0 {
		t.Errorf("second import: %d, %v; want nothing to do", n, err)
	}
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// BenchmarkArtifactStore streams a 64 MiB binary into MySQL and back, and,
// as the reference measured in the same run, into a file and back (what
// servers before migration 11 did). Run:
//
//	go test -run '^$' -bench BenchmarkArtifactStore -benchtime 3x ./apiserver/mysql/
func BenchmarkArtifactStore(b *testing.B) {
	db := migrated(b)
	ctx := context.Background()
	data := randomBytes(b, 64<<20)
	b.Run("store=file", func(b *testing.B) {
		dir := b.TempDir()
		b.SetBytes(int64(len(data)))
		for i := range b.N {
			p := filepath.Join(dir, fmt.Sprint(i))
			f, _ := os.Create(p)
			h := sha256.New()
			io.Copy(io.MultiWriter(f, h), bytes.NewReader(data))
			f.Sync()
			f.Close()
			f, _ = os.Open(p)
			io.Copy(io.Discard, f)
			f.Close()
		}
	})
	b.Run("store=mysql", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		var up, down time.Duration
		for range b.N {
			start := time.Now()
			a, err := db.StageArtifact(ctx, bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			up += time.Since(start)
			start = time.Now()
			n, err := io.Copy(io.Discard, io.NewSectionReader(db.ArtifactReader(ctx, a), 0, a.Size))
			if err != nil || n != int64(len(data)) {
				b.Fatal(n, err)
			}
			down += time.Since(start)
			db.DiscardArtifact(ctx, a.ID)
		}
		mb := float64(len(data)*b.N) / (1 << 20)
		b.ReportMetric(mb/up.Seconds(), "upload-MiB/s")
		b.ReportMetric(mb/down.Seconds(), "download-MiB/s")
	})
}
