// Command ferretdb runs FerretDB 1.x with its SQLite backend, built from the
// embeddable package so that the project can build it with `go build` alone.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	sqliteURL := flag.String("sqlite-url", "file:data/", "SQLite directory URI")
	version := flag.Bool("version", false, "print version and exit")
	flag.Parse()

	if *version {
		fmt.Println("ferretdb", ferretDBModuleVersion(), "(sqlite backend)")
		return
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: *sqliteURL,
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if dir, err := sqliteDir(*sqliteURL); err != nil {
		log.Printf("id lookup indexes off: %v", err)
	} else {
		// Tables that exist already are indexed before FerretDB serves: on a large table that takes
		// a while, and must not hold SQLite's write lock while writers wait on it.
		if err := addIDIndexes(ctx, dir); err != nil {
			log.Printf("id lookup indexes: %v", err)
		}
		go keepIDIndexes(ctx, dir, time.Second)
	}
	log.Printf("ferretdb listening on %s (sqlite %s)", *listen, *sqliteURL)
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}

// ferretDBModuleVersion reports the FerretDB module version this binary was built with.
func ferretDBModuleVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/FerretDB/FerretDB" {
				return dep.Version
			}
		}
	}
	return "unknown"
}
