// Command mongocheck is the readiness probe for the local FerretDB server
// started by tools/stack/stack.sh. It performs a real MongoDB wire-protocol
// handshake with the official Go driver, then runs `ping` and a write/read
// round trip in a scratch database (dropped afterwards), and exits 0 only if all of that succeeds.
//
// Usage: mongocheck [-uri mongodb://127.0.0.1:27017/] [-timeout 5s] [-roundtrip=true]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func main() {
	uri := flag.String("uri", "mongodb://127.0.0.1:27017/", "MongoDB connection string")
	timeout := flag.Duration("timeout", 5*time.Second, "overall timeout")
	roundtrip := flag.Bool("roundtrip", true, "also insert, read back and delete a document")
	flag.Parse()

	if err := check(*uri, *timeout, *roundtrip); err != nil {
		fmt.Fprintf(os.Stderr, "mongocheck: %s: %v\n", *uri, err)
		os.Exit(1)
	}
	fmt.Printf("mongocheck: %s ok\n", *uri)
}

func check(uri string, timeout time.Duration, roundtrip bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	opts := options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(timeout).
		SetConnectTimeout(timeout).
		SetDirect(true).
		SetAppName("mandate-stack-mongocheck")

	client, err := mongo.Connect(ctx, opts)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer client.Disconnect(context.Background()) //nolint:errcheck

	var hello bson.M
	if err = client.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	if err = client.Ping(ctx, nil); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if !roundtrip {
		return nil
	}

	db := client.Database("mandate_stack_readiness")
	defer db.Drop(context.Background()) //nolint:errcheck // leave no readiness data behind

	coll := db.Collection("probe")
	id := fmt.Sprintf("probe-%d-%d", os.Getpid(), time.Now().UnixNano())
	if _, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "at", Value: time.Now().UTC()}}); err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	var got bson.M
	if err = coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&got); err != nil {
		return fmt.Errorf("find: %w", err)
	}
	if _, err = coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	return nil
}
