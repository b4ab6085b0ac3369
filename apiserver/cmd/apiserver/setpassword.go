package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/auth"
	"github.com/tributary-etl/tributary/apiserver/httpapi"
	"github.com/tributary-etl/tributary/apiserver/mysql"
)

// setPassword is `apiserver set-password [-role admin] EMAIL`: it reads a
// password from stdin and gives it to the user EMAIL (created when
// missing), directly in the database named by TRIBUTARY_MYSQL_DSN. It is
// how an operator gets back in when the admin's password is lost.
func setPassword(args []string, stdin io.Reader) int {
	fs := flag.NewFlagSet("set-password", flag.ContinueOnError)
	role := fs.String("role", "admin", "the user's role: viewer, editor or admin")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: apiserver set-password [-role ROLE] EMAIL < password\n\n"+
			"Sets EMAIL's password (read from stdin, one line) and role in the database\n"+
			"TRIBUTARY_MYSQL_DSN names, creating the user if needed. Migrations are applied first.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || !apiserver.Role(*role).Valid() {
		fs.Usage()
		return 2
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintf(os.Stderr, "set-password: read the password: %v\n", err)
		return 1
	}
	password := strings.TrimRight(line, "\r\n")
	if len(password) < httpapi.MinPasswordBytes || len(password) > httpapi.MaxPasswordBytes {
		fmt.Fprintf(os.Stderr, "set-password: the password must be %d to %d bytes\n", httpapi.MinPasswordBytes, httpapi.MaxPasswordBytes)
		return 2
	}
	dsn := os.Getenv("TRIBUTARY_MYSQL_DSN")
	if dsn == "" {
		fmt.Fprintln(os.Stderr, "set-password: TRIBUTARY_MYSQL_DSN is not set")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := mysql.Open(ctx, dsn)
	if err == nil {
		defer db.Close()
		_, err = db.Migrate(ctx)
	}
	var hash string
	if err == nil {
		hash, err = auth.HashPassword(password, auth.DefaultBcryptCost)
	}
	if err == nil {
		err = db.SetPassword(ctx, fs.Arg(0), hash, apiserver.Role(*role))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "set-password: %v\n", err)
		return 1
	}
	fmt.Printf("password of %s (%s) set\n", fs.Arg(0), *role)
	return 0
}
