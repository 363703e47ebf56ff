/*
 * Unit tests: the decoded views (decode.h): which segments are found, what
 * they decode to, and that every view offset maps back to the exact
 * source byte; edge inputs end without a view rather than loop or read
 * past the end.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "tap.h"

/* The view of s as a string ("" when empty), kept in v. */
static const char *view(struct lg_view *v, const char *s)
{
	if (lg_view_build(v, s, strlen(s)))
		return "(error)";
	return v->text.n ? (const char *)v->text.v : "";
}

/* Offset of needle in the view, mapped back: the source offset. */
static long mapped(struct lg_view *v, const char *src, const char *needle)
{
	const char *t = v->text.n ? strstr((const char *)v->text.v, needle) : NULL;
	if (!t)
		return -1;
	return (long)lg_view_map(v, src, (uint64_t)(t - (const char *)v->text.v), NULL);
}

int main(void)
{
	struct lg_view v;
	const char *s;
	char big[70000];

	lg_view_init(&v);

	/* base64: "aws_access_key_id = AKIAQ3EGRTLE5Z7QWFXD" */
	s = "settings: YXdzX2FjY2Vzc19rZXlfaWQgPSBBS0lBUTNFR1JUTEU1WjdRV0ZYRA==\n";
	ok(!strcmp(view(&v, s), "aws_access_key_id = AKIAQ3EGRTLE5Z7QWFXD\n"), "base64 is decoded");
	is_int(v.segs.n, 1, "one segment");
	is_int(((struct lg_seg *)v.segs.v)[0].kind, LG_ENC_BASE64, "of base64");
	is_int(mapped(&v, s, "AKIA"), 10 + 24, "AKIA (byte 20) maps to the quantum that holds it (bytes 18-20)");
	is_int(mapped(&v, s, "aws_"), 10, "the first byte maps to the run's start");

	/* URL-safe and unpadded (a JWT header). */
	s = "t = eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.x";
	ok(strstr(view(&v, s), "{\"alg\":\"HS256\",\"typ\":\"JWT\"}") != NULL, "unpadded base64url is decoded");

	/* Wrapped over lines, as base64(1) writes it. */
	s = "data: |\n  cGFzc3dvcmQ9VnE3bUt6MlJ0THA5WHdOYzRzIGFuZCBzb21lIG1vcmUgdGV4dCB0\n"
	    "  byBtYWtlIGl0IHdyYXAgb3ZlciB0d28gbGluZXM=\n";
	ok(strstr(view(&v, s), "password=Vq7mKz2RtLp9XwNc4s and some more text to make it wrap over two lines") != NULL,
	   "a wrapped block is one segment");
	is_int(v.segs.n, 1, "one segment over both lines");
	ok(mapped(&v, s, "wrap") > (long)strlen("data: |\n  cGFzc3dvcmQ9VnE3bUt6MlJ0THA5WHdOYzRzIGFuZCBzb21lIG1vcmUgdGV4dCB0\n"),
	   "a byte of the second line maps into the second line");

	/* What is not decoded. */
	ok(!*view(&v, "name = this_is_a_rather_long_identifier_name_for_testing\n"), "a snake_case name is not decoded");
	ok(!*view(&v, "path = /usr/lib/x86_64-linux-gnu/libexample.so.1\n"), "a path is not decoded");
	ok(!*view(&v, "h = 3f786850e387550fdab836ed7e6dc881de23001b\n"), "a hex hash (one case) is not decoded");
	ok(!*view(&v, "img = iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\n"),
	   "base64 of binary data (a PNG) is not kept");
	ok(!*view(&v, "x = YWJj\n"), "a run shorter than 20 characters is not decoded");

	/* Percent-encoding. */
	s = "u = https://h.test/x?p=%7B%22password%22%3A%22Vq7mKz2RtLp9XwNc4s%22%7D&y=1\n";
	ok(strstr(view(&v, s), "{\"password\":\"Vq7mKz2RtLp9XwNc4s\"}") != NULL, "percent-encoding is decoded");
	is_int(mapped(&v, s, "Vq7m"), (long)(strstr(s, "Vq7m") - s), "a plain byte maps to itself");
	is_int(mapped(&v, s, "\"password"), (long)(strstr(s, "%22password") - s), "a decoded byte maps to its %%XX");
	ok(!*view(&v, "printf(\"%02x%02x\", a, b);\n") || !strstr(view(&v, "printf(\"%02x%02x\", a, b);\n"), "\x02"),
	   "printf formats do not make a percent segment");

	/* Escaped strings: \n in a PEM, JSON in JSON, \u escapes. */
	s = "{\"key\": \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE KEY-----\\n\"}";
	ok(strstr(view(&v, s), "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END") != NULL, "\\n escapes are decoded");
	s = "\"settings\": \"{\\\"password\\\": \\\"Vq7mKz2RtLp9XwNc4s\\\"}\"";
	ok(strstr(view(&v, s), "{\"password\": \"Vq7mKz2RtLp9XwNc4s\"}") != NULL, "JSON escaped in a string is decoded");
	is_int(mapped(&v, s, "Vq7m"), (long)(strstr(s, "Vq7m") - s), "and maps back exactly");
	ok(strstr(view(&v, "x = \"caf\\u00e9 au lait, s'il vous pla\\u00eet\""), "caf\xc3\xa9 au lait") != NULL,
	   "\\u escapes become UTF-8");
	ok(strstr(view(&v, "p = r\"C:\\new\\table and more text here\""), "C:\\new\\table") != NULL,
	   "a Python raw string keeps its backslashes");

	/* Concatenation. */
	s = "KEY = (\"-----BEGIN RSA PRIVATE KEY-----\\n\"\n       \"MIIEowIBAAKCAQEA\\n\"\n       \"-----END RSA PRIVATE KEY-----\\n\")\n";
	ok(strstr(view(&v, s), "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n") != NULL,
	   "adjacent literals over lines are joined");
	is_int(v.segs.n, 1, "into one segment");
	s = "var k = 'abcdefgh' + 'ijklmnop' + \n 'qrstuvwx';";
	ok(strstr(view(&v, s), "abcdefghijklmnopqrstuvwx") != NULL, "'a' + 'b' is joined");
	ok(strstr(view(&v, "$k = 'abcdefghij' . 'klmnopqrst';"), "abcdefghijklmnopqrst") != NULL, "PHP's . joins");
	ok(!strstr(view(&v, "list = [\"abcdefghij\", \"klmnopqrst\"]"), "abcdefghijklmnopqrst"), "a comma does not join");
	ok(!*view(&v, "msg = \"just a plain string without escapes\""), "a plain literal is not a segment");

	/* Edge inputs: unterminated, a quote or backslash at the end, lone %, empty. */
	ok(!*view(&v, "\"unterminated \\n string"), "an unterminated literal is not a segment");
	ok(!*view(&v, "ends with a quote \""), "a quote at the end");
	ok(!*view(&v, "\"abc\\"), "a backslash at the end");
	ok(!*view(&v, "100% sure %"), "a lone percent sign");
	ok(!*view(&v, ""), "empty input");
	ok(!*view(&v, "'a' 'b' 'c' \"d"), "joins that end unterminated");
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[0] = '"';
	ok(!*view(&v, big), "a 64 KiB run of one letter (no lower case) is not decoded, and a quote never closed");
	for (size_t i = 1; i < sizeof(big) - 1; i++)
		big[i] = "Ab1+"[i % 4];
	(void)view(&v, big);
	ok(v.segs.n <= 1, "a long base64-like run is at most one segment");

	lg_view_release(&v);
	return done();
}
