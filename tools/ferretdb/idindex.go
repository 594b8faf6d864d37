package main

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver FerretDB itself uses
)

// FerretDB 1.24's SQLite backend looks a document up by `_ferretdb_sjson->'$._id'` (a find,
// update or delete whose filter is `_id` alone), but it indexes `_id` as `_ferretdb_sjson->"_id"`.
// SQLite uses an expression index only when the query's expression is the same, so every such
// lookup scans the whole table and parses every document's JSON. addIDIndexes adds, to every
// collection's table, an index on the expression the lookups use. FerretDB neither lists nor
// needs it; dropping a collection drops its table and the index with it.

// idIndexSuffix names the added index after its table.
const idIndexSuffix = "_id_lookup"

// keepIDIndexes adds the missing lookup indexes every interval until ctx ends (the tables that
// exist at start are indexed before it, by main).
func keepIDIndexes(ctx context.Context, dir string, interval time.Duration) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
		if err := addIDIndexes(ctx, dir); err != nil && ctx.Err() == nil {
			log.Printf("id lookup indexes: %v", err)
		}
	}
}

// addIDIndexes adds the lookup index to every table of every database file in dir that lacks it.
func addIDIndexes(ctx context.Context, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.sqlite"))
	if err != nil {
		return err
	}
	for _, file := range files {
		if err := addIDIndexesTo(ctx, file); err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(file), err)
		}
	}
	return nil
}

func addIDIndexesTo(ctx context.Context, file string) error {
	// mode=rw: a database file FerretDB has just dropped is not created again.
	uri := "file:" + file + "?mode=rw&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", uri)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	rows, err := db.QueryContext(ctx, `
		SELECT c.table_name FROM _ferretdb_collections c
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_master m WHERE m.type = 'index' AND m.name = c.table_name || ?)
		  AND EXISTS (SELECT 1 FROM sqlite_master m WHERE m.type = 'table' AND m.name = c.table_name)`, idIndexSuffix)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil // a database FerretDB has not finished creating
		}
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, t+idIndexSuffix, t)
		if _, err := db.ExecContext(ctx, q); err != nil {
			if strings.Contains(err.Error(), "no such table") {
				continue
			}
			return err
		}
		log.Printf("id lookup index added to %s (%s)", t, filepath.Base(file))
	}
	return nil
}

// sqliteDir is the directory a `file:` SQLite URL names.
func sqliteDir(sqliteURL string) (string, error) {
	u, err := url.Parse(sqliteURL)
	if err != nil {
		return "", err
	}
	dir := u.Opaque
	if dir == "" {
		dir = u.Path
	}
	if dir == "" {
		return "", fmt.Errorf("no directory in %q", sqliteURL)
	}
	if _, err := os.Stat(dir); err != nil {
		return "", err
	}
	return dir, nil
}
