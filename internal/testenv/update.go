package testenv

import (
	"context"
	"reflect"
	"testing"

	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Update reads the object key of obj's type through c, applies change and
// writes it back, reading it anew and trying again while the write conflicts
// with another writer (a controller's status or finalizer); any other error
// fails the test. obj only names the type: each try reads into a fresh one.
func Update[T client.Object](t testing.TB, c client.Client, key client.ObjectKey, obj T, change func(T)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		fresh := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(T)
		if err := c.Get(context.Background(), key, fresh); err != nil {
			return err
		}
		change(fresh)
		return c.Update(context.Background(), fresh)
	})
	if err != nil {
		t.Fatalf("updating %T %s: %v", obj, key, err)
	}
}
