package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// conn is one keep-alive HTTP/1.1 connection that sends a request and
// reads its answer, nothing more. net/http's client spends more CPU per
// request than a small server does to answer it, which would make the
// load generator, not the server, the bottleneck on a two-core machine;
// this one spends a few microseconds.
type conn struct {
	addr string
	host string
	path string
	c    net.Conn
	r    *bufio.Reader
	req  bytes.Buffer
	body []byte
}

func newConn(base string) (*conn, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("%q: only http://host:port URLs are supported", base)
	}
	return &conn{addr: u.Host, host: u.Host, path: strings.TrimSuffix(u.Path, "/") + "/slack/commands"}, nil
}

// post sends one command and reads the answer. It returns the status
// code, whether the body carries a card, and a transport error. A broken
// connection is reopened by the next call.
func (c *conn) post(body []byte, ts, sig string, timeout time.Duration) (int, bool, error) {
	if c.c == nil {
		nc, err := net.DialTimeout("tcp", c.addr, timeout)
		if err != nil {
			return 0, false, err
		}
		c.c, c.r = nc, bufio.NewReaderSize(nc, 16<<10)
	}
	c.req.Reset()
	c.req.WriteString("POST " + c.path + " HTTP/1.1\r\nHost: " + c.host +
		"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " + strconv.Itoa(len(body)) +
		"\r\nX-Slack-Request-Timestamp: " + ts + "\r\nX-Slack-Signature: " + sig + "\r\n\r\n")
	c.req.Write(body)
	_ = c.c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.c.Write(c.req.Bytes()); err != nil {
		c.close()
		return 0, false, err
	}
	code, answer, err := c.read()
	if err != nil {
		c.close()
		return 0, false, err
	}
	return code, bytes.Contains(answer, []byte(`"blocks"`)), nil
}

// read reads one response: the status line, the headers, and a body of
// Content-Length bytes or in chunks.
func (c *conn) read() (int, []byte, error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	f := bytes.Fields(line)
	if len(f) < 2 {
		return 0, nil, errors.New("malformed status line")
	}
	code, err := strconv.Atoi(string(f[1]))
	if err != nil {
		return 0, nil, errors.New("malformed status code")
	}
	length, chunked, closing := -1, false, false
	for {
		h, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		k, v, _ := bytes.Cut(h, []byte(":"))
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			length, _ = strconv.Atoi(string(v))
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		case bytes.EqualFold(k, []byte("Connection")):
			closing = bytes.EqualFold(v, []byte("close"))
		}
	}
	c.body = c.body[:0]
	switch {
	case chunked:
		for {
			sz, err := c.r.ReadSlice('\n')
			if err != nil {
				return 0, nil, err
			}
			n, err := strconv.ParseInt(string(bytes.TrimSpace(sz)), 16, 64)
			if err != nil {
				return 0, nil, errors.New("malformed chunk size")
			}
			if n == 0 {
				if _, err := c.r.ReadSlice('\n'); err != nil {
					return 0, nil, err
				}
				break
			}
			if c.body, err = appendN(c.body, c.r, int(n)); err != nil {
				return 0, nil, err
			}
			if _, err := c.r.Discard(2); err != nil {
				return 0, nil, err
			}
		}
	case length >= 0:
		if c.body, err = appendN(c.body, c.r, length); err != nil {
			return 0, nil, err
		}
	default:
		return 0, nil, errors.New("answer without a length")
	}
	if closing {
		c.close()
	}
	return code, c.body, nil
}

func appendN(dst []byte, r io.Reader, n int) ([]byte, error) {
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	_, err := io.ReadFull(r, dst[start:])
	return dst, err
}

func (c *conn) close() {
	if c.c != nil {
		c.c.Close()
		c.c, c.r = nil, nil
	}
}
