/* Unit tests: entropy, placeholder detection, GitHub checksum, offline validators, redaction. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "fingerprint.h"
#include "tap.h"

#define S(x) x, strlen(x)

int main(void)
{
	char out[LG_PREVIEW_MAX], fp1[LG_FP_HEX + 1], fp2[LG_FP_HEX + 1], fp3[LG_FP_HEX + 1];
	struct lg_key k1, k2;

	ok(lg_entropy(S("aaaaaaaa")) == 0, "entropy of one repeated byte is 0");
	ok(fabs(lg_entropy(S("abcd")) - 2.0) < 1e-9, "entropy of 4 distinct bytes is 2 bits");
	ok(lg_entropy(S("")) == 0, "entropy of nothing is 0");
	ok(lg_entropy(S("wJa7rXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKE")) > 4.0, "random base64 is above 4 bits");

	ok(lg_is_placeholder(S("AKIAIOSFODNN7EXAMPLE")), "AWS documentation key is a placeholder");
	ok(lg_is_placeholder(S("changeme")), "changeme");
	ok(lg_is_placeholder(S("<your-token>")), "<your-token>");
	ok(lg_is_placeholder(S("${GITHUB_TOKEN}")), "${VAR}");
	ok(lg_is_placeholder(S("process.env.API_KEY")), "process.env.X");
	ok(lg_is_placeholder(S("xxxxxxxxxxxxxxxx")), "xxxx");
	ok(lg_is_placeholder(S("sk_live_************")), "stars");
	ok(!lg_is_placeholder(S("Qm9vdF8xY3p4dkJ3S2h4")), "random value is not a placeholder");
	ok(lg_is_placeholder(S("2YotnFZFEjr1zCsicMWpAA")), "the access token of RFC 6749's examples");
	ok(lg_checksum_token_invalid(S("ghp_aBcD1234eFgH5678iJkL9012mNoP3456qRsT")), "a made-up GitHub token fails its checksum");
	ok(lg_looks_like_type_name(S("OAuth2Token")), "OAuth2Token is a type name");
	ok(lg_looks_like_type_name(S("RSAPublicKey2")) == 0, "a name that does not end in a known word is not");
	ok(lg_looks_like_type_name(S("Oauth2Credentials")), "Oauth2Credentials is a type name");
	ok(!lg_looks_like_type_name(S("Hq8vNz3KpWm7RtXc2L")), "a random value is not a type name");
	ok(!lg_looks_like_type_name(S("TOKEN")), "an all-capital word is not judged");
	ok(!lg_looks_like_type_name(S("k8Jq2mZx9Token")), "nor a value with a small first letter");
	ok(!lg_checksum_token_invalid(S("ghp_aBcD1234eFgH5678iJkL9012mNoP3456qRs")), "a value of another length is not judged");
	ok(!lg_checksum_token_invalid(S("xyz_aBcD1234eFgH5678iJkL9012mNoP3456qRsT")), "nor one without the prefix");
	ok(lg_is_placeholder(S("ad180jjd733klru7")), "the token of RFC 5849's examples");
	ok(!lg_is_placeholder(S("ad180jjd733klru7x")), "a longer value that starts like one is not");
	ok(!lg_is_placeholder(S("2YotnFZFEjr1zCsicMWpA")), "nor a shorter one");
	ok(!lg_is_placeholder(S("9f3a0000c1d2")), "four zeros in a hex key do not make a placeholder");
	ok(lg_is_placeholder(S("aaaaaa")), "six of any character do");
	ok(lg_is_placeholder(S("(whatever)")), "words in brackets stand for a value: (whatever)");
	ok(lg_is_placeholder(S("[db password]")), "[db password]");
	ok(lg_is_placeholder(S("{api-key}")), "{api-key}");
	ok(!lg_is_placeholder(S("(Vq7mKz2RtLp9XwNc4s)")), "a random value in brackets is not");
	ok(!lg_is_placeholder(S("(whatever]")), "nor unmatched brackets");
	ok(!lg_is_placeholder(S("p<ss9Kd2mQ7x")), "a lone < is a character of a password, not a placeholder");
	ok(!lg_is_placeholder(S("Zq8>vN3kLm2w")), "nor a lone >");
	ok(lg_is_placeholder(S("sk_live_<your key>")), "a name in angle brackets inside the value is");
	ok(!lg_is_placeholder(S("a<>b9Kd2mQ7x")), "an empty pair is not a name");

	ok(lg_github_crc32_valid(S("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")), "valid ghp_ checksum");
	ok(!lg_github_crc32_valid(S("ghp_cBShNgFPhN9LhLfVizZbl3g7Jerabz1ai0KU")), "last char changed");
	ok(!lg_github_crc32_valid(S("ghp_dBShNgFPhN9LhLfVizZbl3g7Jerabz1ai0KT")), "body changed");
	ok(!lg_github_crc32_valid(S("ghp_")), "too short");
	ok(!lg_github_crc32_valid(S("ghp_cBShNgFPhN9LhLfVizZbl3g7Jerabz1ai0-T")), "non-base62 checksum");

	/*
	 * Offline validators. The valid values were made for these tests from
	 * random bytes: real structures (a JWS, a direct-encryption JWE, a
	 * version 2 macaroon, 64 key bytes), never anyone's credential.
	 */
	{
		static const char jws_hs256[] =
			"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjYzRlODA4Zi1mYjIyLTQ2YTctODJlZC0xM2QyOTg0M"
			"zdiOTMiLCJpYXQiOjE3MzMzMDAwMDAsImV4cCI6MTc2NDgzNjAwMH0.8p1HLWNam_MJWsCp91kSoVHY711Zwy-xPtP"
			"tWOzo46Q";
		static const char jws_rs256[] =
			"eyJhbGciOiJSUzI1NiIsImtpZCI6IkJVYTlZRlllaEdadiJ9.eyJzdWIiOiI3MjUxNmYzYi04OWJhLTQwZmMtYTM0N"
			"y1kNDE5NzZhZDI5ZGYiLCJhdWQiOiJhcGkifQ.TS1HcSnjrH6QYvgpScVI9zkC94sZXwY-FoQAbWv1jryw9AOT6l1Z"
			"u57oN4tTPZVkuQ-LX_Ez71Y3RweHZq5ITr-j_znh_hz5HmC8BbUFRXiw7LK8XiXXgTaTvbAwvfdGgdcqvrz-JUJFkr"
			"fzyirOvnTwQkB2mVbKgOMM4hcNrECNla-AA8l5DSWcj0sky-SN_62gUisu5epCmRPXnPr89xVt--EpcjDkiALM1Xuk"
			"93H5ZbhZXSO_G9CLOi4R-5q5MzSFBMuD-Lvo8eIlNrBhbH7nIvSUethMvHGyXfPAPvaFm3rVPW_G6W6N246D5_48g2"
			"YklYyeNTnyLsM9w4fBTw";
		static const char jws_none[] =
			"eyJhbGciOiJub25lIn0.eyJzdWIiOiJiMzFkYWM1Ny02NWMwLTQ4MmUtODE3Zi0yOTYzODc4ZjE2NWYiLCJpYXQiOj"
			"E3MzQyOTE4NTgsInNjb3BlIjoicmVhZCJ9.";
		static const char jwe_dir[] =
			"eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..MXjWZDxN7HofbA5k.rCcYCGaKloulMhZ3nZmlmu1xkgWNY_5r"
			"vlC5yW6-aGeC1RzkreBjV8Fc4ZiETsL8gSnmGIVduNSBnpyvhCNzTuZRxhW7_7TqtenxsBYV_Pw-7Gn-PyOBFj_0-I"
			"l6YjIGucP3RrowUzSVsxBMckVU-DCYk8tQmzNmYQWPQmJtVya5cybX-hqPjnByuV53FcvcTGZtJhQAzLQAV_JuFIYO"
			"uNmqrSAkmBGLOlwHqTKPtUXwmcCIaWHT8sVvScS8nY3nl4bT7Zd3FI_5gKFurUTNgjkGMCtJldJHBo_ysMsvuJPkoV"
			"1Ih83aCPh57dq4KKUrLkUbSuxjhA36ZUa7XpGYWA.6yTtz8aKKIMuG1CnRkTKCA";
		static const char jwt_not_json[] =
			"QmVhcmVyOiBub3QganNvbg.eyJzdWIiOiIwNTVmOWI3MS0wZTYwLTQwZTgtOGIxMS05N2I0Y2NlZmE3YzkiLCJpYXQ"
			"iOjE3MzMzODM0MzgsInNjb3BlIjoicmVhZCJ9.4WqeDjGyZEzfYGHN6WFNcKDp9ac3_fbgrHCJiyiXng8";
		static const char jwt_no_alg[] =
			"eyJ0eXAiOiJKV1QiLCJraWQiOiJrMSJ9.eyJzdWIiOiIwYWFlNmE4NC01ZjZmLTQxMDUtYTk3Yy04MTg1NDY2ZWE3M"
			"WUiLCJpYXQiOjE3MzQxNDQ0NjYsInNjb3BlIjoicmVhZCJ9.Mw3XQa6gn3DuIdZ-Qr1BuHxLWMT6XSgfs59qq0aCfS"
			"Y";
		static const char jwt_alg_number[] =
			"eyJhbGciOjI1NiwidHlwIjoiSldUIn0.eyJzdWIiOiI2NTZjMDUzOC04N2M0LTQzNTctOWQ3NS02ODcwNzhjNWZlZj"
			"ciLCJpYXQiOjE3MzQwNDE4NjAsInNjb3BlIjoicmVhZCJ9.NpcFakRI4nVZiAdItP7F9ntPU6lNPVnwp2fPbbasAqc";
		static const char jwt_array[] =
			"WyJhbGciLCJIUzI1NiJd.eyJzdWIiOiI4YzI4ZGJhNC00YmNiLTRmZGYtODU5Yy01YjdkYmM1N2M5NDgiLCJpYXQiO"
			"jE3MzQyODc2NjgsInNjb3BlIjoicmVhZCJ9.2n49q9bc0LQYQIvRswoXuB4ZKsmakOopuOyoVMB2mFc";
		static const char jwt_trailing[] =
			"eyJhbGciOiJIUzI1NiJ9eA.eyJzdWIiOiJhNDhlZTAyYi0xNGM4LTQ0YWQtYmU4MS0yZGE2YTlmYTUwOTciLCJpYXQ"
			"iOjE3MzM5NTY3ODIsInNjb3BlIjoicmVhZCJ9.aHvkpq3RUhR8xLjXzvzwnV73BvLsF8WFgdF5Lkw8BAw";
		static const char jwe_no_enc[] =
			"eyJhbGciOiJkaXIiLCJraWQiOiJrMiJ9..iXkyNsFgBEMinodS.jxdIYRaSraSspzEghYzKiltjd_0kU0fW-q3m90y"
			"M64N9fcitlZ6mFxJ8CHKKFNUFE-1VxcYrfzhICumH66AzhiiKMZyTw03ZNXU7jGZYw6k.vHDKKNs8PW2SLHDHVWo3g"
			"A";
		static const char jwt_four[] =
			"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZTJhMGM1OS0yMGYwLTQ3YjItOGZhNy04NDRmZTkwNjkyNTMiLCJpYXQiO"
			"jE3MzQxODA4ODksInNjb3BlIjoicmVhZCJ9.OpXEA2z4ZR8a8IAAmmZSHVxaac9dKSiRCidnDmqfa7Y.35vFeLARNa"
			"QHmLA7HRkWNThnK0KcI4PydEUyHZxD7Is";
		static const char jwt_two[] =
			"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxZDI4NmNlZS03OTI1LTQ2YTItOGZlYS0xNGExMjdkZDE2MmQiLCJpYXQiO"
			"jE3MzMzMzAxOTAsInNjb3BlIjoicmVhZCJ9";
		static const char jwt_bad_char[] =
			"eyJhbGciOi!IUzI1NiJ9.eyJzdWIiOiJkODA2OTg4Mi03YjIxLTRlNDktODQ3ZS01YThlNjE0M2M1MDYiLCJpYXQiO"
			"jE3MzM5ODc0OTIsInNjb3BlIjoicmVhZCJ9.AQwmsuxR7H9pmUkhvlSkXLcVFcn6JFQjNRTAfEep28Y";
		static const char jwt_bad_len[] =
			"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI5ZjAwYjk2Yi1kNWVjLTQ2OWQtYTExYy0zYTkzZDUzZGZiMzYiLCJpYXQiO"
			"jE3MzM3NjkyNDcsInNjb3BlIjoicmVhZCJ9.rysChbMAjboSeJoWCec8iX1MXC0uktF7EnZ-bHqS1s4QQ";
		static const char jwt_cut_header[] =
			"eyJhbGciOiJIUzI1NiIsInR5cCI6Ik.eyJzdWIiOiIxNzBhNDZjNi0zZGNkLTRhNTgtOGE3OC1lNzJkMTlkM2Q0YzQ"
			"iLCJpYXQiOjE3MzM3MzgxMDUsInNjb3BlIjoicmVhZCJ9.ZZxrv4QNvpTNcSsAw2dHDeDfArKbP4p1q51bKsDHWUE";
		static const char pypi_ok[] =
			"pypi-AgEIcHlwaS5vcmcCJGUxMGM2NzgwLTk5ZTMtZGUxYS0wMjIyLTM3NGY3OWNmYTc5ZgACJXsidmVyc2lvbiI6I"
			"DEsICJwZXJtaXNzaW9ucyI6ICJ1c2VyIn0AAAYgKDFryd600If0PP1boHc1fcv7nXqHoal57hvjxyTFkJA";
		static const char pypi_test_ok[] =
			"pypi-AgENdGVzdC5weXBpLm9yZwIkZjBjMzhhZWMtYTVmNi00ZGM2LWRhMGItNmYyMmNlZWMxMTM1AAIleyJ2ZXJza"
			"W9uIjogMSwgInBlcm1pc3Npb25zIjogInVzZXIifQAABiADR68LFYc2O7X6yXKPLJhhbpQdxTO4-teUkMAyPxXcOA";
		static const char pypi_no_caveat[] =
			"pypi-AgEIcHlwaS5vcmcCJDI4NTkyZGM5LWM1YjQtZTliNC1lOGUwLTQ1YjdkZTc1N2IyNwAABiDMIPy0raeazLszE"
			"uPuCxGO5Gn_Ng7NURHqZaU_1pS-ag";
		static const char pypi_two_caveats[] =
			"pypi-AgEIcHlwaS5vcmcCJDA1NWUxMTRjLTEyYzAtZjJmMS01Mjg5LWM2OWY3ZDYyNjRkOQACOXsidmVyc2lvbiI6I"
			"DEsICJwZXJtaXNzaW9ucyI6IHsicHJvamVjdHMiOiBbImxlYWtnYXRlIl19fQACE3sibmJmIjogMTczMzMwMDAwMH0"
			"AAAYgr4qxgrjunGoa1MhNjzt2bR4hRJV_Ovvv80PlgM9DiRU";
		static const char pypi_evil_loc[] =
			"pypi-AgEUcHlwaS5vcmcuZXhhbXBsZS5uZXQCJDk5MzFkZjIzLTMxYTQtZmM3NC1kOGM2LTVmY2FkMmExM2E3YQACJ"
			"XsidmVyc2lvbiI6IDEsICJwZXJtaXNzaW9ucyI6ICJ1c2VyIn0AAAYgxXXeMtpRTO33Q00amvxu1o3OIQsa91nEH_t"
			"eFs1OqSo";
		static const char pypi_other_loc[] =
			"pypi-AgEIcHlwai5vcmcCJGZhMWMyMTY4LTgzYjYtYzNjYy04YmU5LTI2NGQzNGExNmUxMQACJXsidmVyc2lvbiI6I"
			"DEsICJwZXJtaXNzaW9ucyI6ICJ1c2VyIn0AAAYgrV2q1G00JNW8L7C6OurPUtyQJwy1Z-V-Cq39t9_GkJM";
		static const char pypi_no_loc[] =
			"pypi-AgIkODIyYmU3YTItODhhNi00Y2E5LWZjOWUtYTQxNzUwYjAyYjRkAAIleyJ2ZXJzaW9uIjogMSwgInBlcm1pc"
			"3Npb25zIjogInVzZXIifQAABiA9v2ZkNee5haGF4iO6GPeaVzs3rwTo9zwrvkflNsGvDw";
		static const char pypi_v1[] =
			"pypi-AQEIcHlwaS5vcmcCJDc0MjNkMDA5LWY2NTAtM2FlZS1jODIxLTM0YmE4ZDFmYmU5ZAACJXsidmVyc2lvbiI6I"
			"DEsICJwZXJtaXNzaW9ucyI6ICJ1c2VyIn0AAAYgMU---FzInuKNE0U6J0lXgrGvwYjrrrHfWt3SZr9g64M";
		static const char pypi_short_sig[] =
			"pypi-AgEIcHlwaS5vcmcCJDA5ZDY4YWExLTMzYTEtMGY1OS0yYzdiLTU5ZmZlZWY4NDliOQACJXsidmVyc2lvbiI6I"
			"DEsICJwZXJtaXNzaW9ucyI6ICJ1c2VyIn0AAAYQyYZSgV1qNx_5zIgjPscZog";
		static const char pypi_trailing[] =
			"pypi-AgEIcHlwaS5vcmcCJDBmMzJiNzI4LWY1MzktMDgwMC1hNWI3LTA5NGM5ZGJlMjIwZQACJXsidmVyc2lvbiI6I"
			"DEsICJwZXJtaXNzaW9ucyI6ICJ1c2VyIn0AAAYg3ewYC-tekxrX7CLWA24rr9XC07J_RU_c1P4W0FG-eAkA";
		static const char pypi_cut[] =
			"pypi-AgEIcHlwaS5vcmcCJGIzOWQyNDVmLWM5MDEtOTlmNi0zYWQ5LWQ0MDdlNDRlZTQyZQACJXsidmVyc2lvbiI6I"
			"DEsICJwZXJtaXNzaW9ucyI6ICJ1c2VyIn0AAAYgFTSpJw8tVHT_mE91EYR3ZjUuFW7s40l";
		static const char pypi_no_ident[] =
			"pypi-AgEIcHlwaS5vcmcAAAYgjIDXraZk12bmeHFQoepacU4CrwRJSDeuKJVPzMpiRIo";
		static const char pypi_huge_varint[] =
			"pypi-AgEIcHlwaS5vcmcC_____w9TWrxDsEHMty35chAZuP1eWM0IbKqi-uJAGpNZUdj957xzn0C5w3I6";
		static const char azure_ok[] =
			"RjV4ZKqkBL1N/o/0cNnNtGGBKo363gEuH+rh7neuS37hVGkXRefYv7t9JOKS8mlOFeTzPq3UlzoiZfSCWNSGVw==";
		static const char azure_loose_bits[] =
			"+naBbYN5VNeVmL+KIOrPaLvdoXDSzgcWgL+v1Kua2imikMTom5+6kSLo2DqSQem1szyBuNbXYUKQUoDLcwgzHB==";
		static const char azure_urlsafe[] =
			"-__7__v_-__7__v_-__7__v_-__7__v_-__7__v_-__7__v_-__7__v_-__7__v_-__7__v_-__7__v_-__7_w==";
		static const char azure_48[] =
			"i9dxlah1hJJZFTx7Yk9PZq9JURewpEW8/yi2JiXNikocdp77FoNoaHtlDrnQDdVK";
		static const char azure_66[] =
			"ZyuRNoXl91YgkaYx2SC3fda3S+zCpeUqry0Bp5CkiJA/3yX8a5J9slJBUsexJu9J8ZUJfSKui79E5UJCEr9yduZL";
		static const char azure_one_pad[] =
			"traBD96SoRZkb5WsUNp8BQK2Wjqwkmt3CAjsfweXyOQN0MgaKq0AkUvki9B7C6cc2Ii8y20L1AoEpKu3IwEdQwA=";

		static const char jwt_b64[] =
			"ZXlKaGJHY2lPaUpGVXpJMU5pSXNJblI1Y0NJNklrcFhWQ0o5LmV5SnpkV0lpT2lJMlpURXdNMk5pTUMwMU5UTXlMVF"
			"F5T1RFdE9EVXdaQzFpWm1FMlptRXdNMlF3TXpJaUxDSnBjM01pT2lKcmRXSmxjbTVsZEdWekwzTmxjblpwWTJWaFky"
			"TnZkVzUwSWl3aWFXRjBJam94TnpNek16QXdNREF3ZlEuVUNuQUJpeUM5cUpIQzRpSWFmZjNBdTI0dGV5bWtnV3M4eW"
			"tEek5MRm1QRm42YzV1WnExS2liRzhoX0NnWjJkejN6TzNqQjF0VklBVWNHREV1X0xYQ3c=";
		static const char jwt_b64_newline[] =
			"ZXlKaGJHY2lPaUpGVXpJMU5pSXNJblI1Y0NJNklrcFhWQ0o5LmV5SnpkV0lpT2lJMlpURXdNMk5pTUMwMU5UTXlMVF"
			"F5T1RFdE9EVXdaQzFpWm1FMlptRXdNMlF3TXpJaUxDSnBjM01pT2lKcmRXSmxjbTVsZEdWekwzTmxjblpwWTJWaFky"
			"TnZkVzUwSWl3aWFXRjBJam94TnpNek16QXdNREF3ZlEuVUNuQUJpeUM5cUpIQzRpSWFmZjNBdTI0dGV5bWtnV3M4eW"
			"tEek5MRm1QRm42YzV1WnExS2liRzhoX0NnWjJkejN6TzNqQjF0VklBVWNHREV1X0xYQ3cK";
		static const char jwt_b64_text[] =
			"ZXlKaGJHY2lPaUpJVXpJMU5pSjkgaXMgdGhlIGhlYWRlciBvZiBhbiBIUzI1NiB0b2tlbiwgc2hvd24gaW4gdGhlIG"
			"d1aWRl";
		static const char jwt_b64_no_alg[] =
			"ZXlKMGVYQWlPaUFpU2xkVUlpd2dJbXRwWkNJNklDSnJNeUo5LmV5SnpkV0lpT2lJMlpURXdNMk5pTUMwMU5UTXlMVF"
			"F5T1RFdE9EVXdaQzFpWm1FMlptRXdNMlF3TXpJaUxDSnBjM01pT2lKcmRXSmxjbTVsZEdWekwzTmxjblpwWTJWaFky"
			"TnZkVzUwSWl3aWFXRjBJam94TnpNek16QXdNREF3ZlEuVUNuQUJpeUM5cUpIQzRpSWFmZjNBdTI0dGV5bWtnV3M4eW"
			"tEek5MRm1QRm42YzV1WnExS2liRzhoX0NnWjJkejN6TzNqQjF0VklBVWNHREV1X0xYQ3c=";
		char *big = malloc(LG_VALIDATE_MAX + 1024);
		size_t n;

		if (!big)
			return 1;
		ok(lg_jwt_valid(S(jws_hs256)), "jwt: an HS256 token");
		ok(lg_jwt_valid(S(jws_rs256)), "jwt: an RS256 token with a kid");
		ok(lg_jwt_valid(S(jws_none)), "jwt: alg none with an empty signature");
		ok(lg_jwt_valid(S(jwe_dir)), "jwt: a JWE with alg and enc (five parts, empty key part)");
		ok(!lg_jwt_valid(S(jwt_not_json)), "jwt: a header that is not JSON");
		ok(!lg_jwt_valid(S(jwt_no_alg)), "jwt: a header without alg");
		ok(!lg_jwt_valid(S(jwt_alg_number)), "jwt: alg that is not a string");
		ok(!lg_jwt_valid(S(jwt_array)), "jwt: a header that is an array");
		ok(!lg_jwt_valid(S(jwt_trailing)), "jwt: bytes after the header's object");
		ok(!lg_jwt_valid(S(jwe_no_enc)), "jwt: a JWE header without enc");
		ok(!lg_jwt_valid(S(jwt_four)), "jwt: four parts");
		ok(!lg_jwt_valid(S(jwt_two)), "jwt: two parts");
		ok(!lg_jwt_valid(S(jwt_bad_char)), "jwt: a character outside base64url");
		ok(!lg_jwt_valid(S(jwt_bad_len)), "jwt: a part whose length no base64 has");
		ok(!lg_jwt_valid(S(jwt_cut_header)), "jwt: a header cut short");
		ok(!lg_jwt_valid(jws_hs256, 30), "jwt: a token cut short");
		ok(!lg_jwt_valid(S("..")), "jwt: empty parts");
		ok(!lg_jwt_valid(S("")), "jwt: nothing");
		ok(!lg_jwt_valid(S("eyJ")), "jwt: eyJ alone");
		/* A header part, a payload of n 'A's, an empty signature. */
		n = LG_VALIDATE_MAX - 64;
		memcpy(big, "eyJhbGciOiJIUzI1NiJ9.", 21);
		memset(big + 21, 'A', n);
		big[21 + n] = '.';
		ok(lg_jwt_valid(big, 22 + n), "jwt: a token just under the limit is decoded");
		n = LG_VALIDATE_MAX + 64;
		memset(big + 21, 'A', n);
		big[21 + n] = '.';
		ok(!lg_jwt_valid(big, 22 + n), "jwt: a longer one is rejected without decoding");

		ok(lg_jwt_base64_valid(S(jwt_b64)), "jwt-base64: the base64 of a JWT");
		ok(lg_jwt_base64_valid(S(jwt_b64_newline)), "jwt-base64: and of a JWT and a newline (echo | base64)");
		ok(!lg_jwt_base64_valid(S(jwt_b64_text)), "jwt-base64: the base64 of a sentence");
		ok(!lg_jwt_base64_valid(S(jwt_b64_no_alg)), "jwt-base64: the base64 of a JWT without alg");
		ok(!lg_jwt_base64_valid(jwt_b64, 200), "jwt-base64: cut short");
		ok(!lg_jwt_base64_valid(S("ZXlKaGJHY2lP-_")), "jwt-base64: base64url characters");
		ok(!lg_jwt_base64_valid(S("")), "jwt-base64: nothing");
		memset(big, 'Q', LG_VALIDATE_MAX + 4);
		ok(!lg_jwt_base64_valid(big, LG_VALIDATE_MAX + 4), "jwt-base64: too long to decode");

		ok(lg_pypi_macaroon_valid(S(pypi_ok)), "pypi-macaroon: a pypi.org token");
		ok(lg_pypi_macaroon_valid(S(pypi_test_ok)), "pypi-macaroon: a test.pypi.org token");
		ok(lg_pypi_macaroon_valid(S(pypi_no_caveat)), "pypi-macaroon: no caveats");
		ok(lg_pypi_macaroon_valid(S(pypi_two_caveats)), "pypi-macaroon: two caveats");
		ok(!lg_pypi_macaroon_valid(S(pypi_evil_loc)), "pypi-macaroon: a location that only starts with pypi.org");
		ok(!lg_pypi_macaroon_valid(S(pypi_other_loc)), "pypi-macaroon: another location");
		ok(!lg_pypi_macaroon_valid(S(pypi_no_loc)), "pypi-macaroon: no location");
		ok(!lg_pypi_macaroon_valid(S(pypi_v1)), "pypi-macaroon: version byte 1");
		ok(!lg_pypi_macaroon_valid(S(pypi_short_sig)), "pypi-macaroon: a 16-byte signature");
		ok(!lg_pypi_macaroon_valid(S(pypi_trailing)), "pypi-macaroon: a byte after the signature");
		ok(!lg_pypi_macaroon_valid(S(pypi_cut)), "pypi-macaroon: a token cut short");
		ok(!lg_pypi_macaroon_valid(S(pypi_no_ident)), "pypi-macaroon: no identifier");
		ok(!lg_pypi_macaroon_valid(S(pypi_huge_varint)), "pypi-macaroon: a field length past the end");
		ok(!lg_pypi_macaroon_valid(pypi_ok + 5, strlen(pypi_ok) - 5), "pypi-macaroon: no pypi- prefix");
		ok(!lg_pypi_macaroon_valid(S("pypi-AgEIcHlwaS5vcmc+/")), "pypi-macaroon: standard base64 characters");
		ok(!lg_pypi_macaroon_valid(S("pypi-AgEIcHlwaS5vcmc=")), "pypi-macaroon: padding");
		ok(!lg_pypi_macaroon_valid(S("pypi-")), "pypi-macaroon: the prefix alone");
		ok(!lg_pypi_macaroon_valid(S("")), "pypi-macaroon: nothing");
		memcpy(big, "pypi-AgEIcHlwaS5vcmc", 20);
		memset(big + 20, 'A', LG_VALIDATE_MAX);
		ok(!lg_pypi_macaroon_valid(big, 20 + LG_VALIDATE_MAX), "pypi-macaroon: too long to decode");

		ok(lg_azure_storage_key_valid(S(azure_ok)), "azure-storage-key: 64 bytes");
		ok(!lg_azure_storage_key_valid(S(azure_loose_bits)), "azure-storage-key: padding bits set");
		ok(!lg_azure_storage_key_valid(S(azure_urlsafe)), "azure-storage-key: base64url characters");
		ok(!lg_azure_storage_key_valid(S(azure_48)), "azure-storage-key: 48 bytes");
		ok(!lg_azure_storage_key_valid(S(azure_66)), "azure-storage-key: 66 bytes");
		ok(!lg_azure_storage_key_valid(S(azure_one_pad)), "azure-storage-key: one = only");
		ok(!lg_azure_storage_key_valid(azure_ok, 86), "azure-storage-key: no padding");
		ok(!lg_azure_storage_key_valid(S("")), "azure-storage-key: nothing");
		memset(big, 'A', LG_VALIDATE_MAX);
		memcpy(big + LG_VALIDATE_MAX - 2, "==", 2);
		ok(!lg_azure_storage_key_valid(big, LG_VALIDATE_MAX), "azure-storage-key: a long value");

		/* What a generic rule drops. */
		ok(lg_structured_token_invalid(S(jwt_no_alg)), "generic: a JWT-shaped value without alg");
		ok(lg_structured_token_invalid(S(jwt_four)), "generic: a JWT-shaped value with four parts");
		ok(!lg_structured_token_invalid(S(jws_hs256)), "generic: a real JWT is kept");
		ok(!lg_structured_token_invalid(S("eyJhbGciOiJIUzI1NiJ9")), "generic: eyJ without the dots is not judged");
		ok(lg_structured_token_invalid(S(pypi_cut)), "generic: a PyPI-shaped value that is no macaroon");
		ok(!lg_structured_token_invalid(S(pypi_ok)), "generic: a real PyPI token is kept");
		ok(!lg_structured_token_invalid(S("pypi-Hunter2secret")), "generic: a password that starts pypi- is not judged");
		ok(lg_structured_token_invalid(S("ghp_aBcD1234eFgH5678iJkL9012mNoP3456qRsT")),
		   "generic: a GitHub token whose checksum fails, as before");
		ok(!lg_structured_token_invalid(S("s3cr3t-Passw0rd")), "generic: a password");
		free(big);
	}

	lg_redact(S("AKIAQ3EGRTLE5Z7QWFXD"), out);
	ok(strstr(out, "Q3EGRTLE5Z7QWFXD") == NULL && strncmp(out, "AKIA", 4) == 0,
	   "AWS key preview keeps the prefix and hides the rest (%s)", out);
	lg_redact(S("hunter2"), out);
	ok(strchr(out, 'h') == NULL && strchr(out, '2') == NULL, "short secret fully hidden (%s)", out);
	lg_redact(S("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"), out);
	{
		size_t shown = 0;
		for (const char *p = out; *p; p++)
			shown += *p != '*';
		ok(shown * 4 <= 40, "at most a quarter shown (%s)", out);
	}
	lg_redact(S("ab\x01\x02\x03\x04\x05\x06\x07\x08"), out);
	ok(strchr(out, '\x01') == NULL, "control bytes never printed");

	memset(&k1, 1, sizeof(k1));
	memset(&k2, 2, sizeof(k2));
	lg_fingerprint(&k1, "rule-a", S("secret-value"), fp1);
	lg_fingerprint(&k1, "rule-a", S("secret-value"), fp2);
	lg_fingerprint(&k2, "rule-a", S("secret-value"), fp3);
	is_str(fp1, fp2, "same key, rule and secret: same fingerprint");
	ok(strcmp(fp1, fp3) != 0, "another key: another fingerprint");
	lg_fingerprint(&k1, "rule-b", S("secret-value"), fp3);
	ok(strcmp(fp1, fp3) != 0, "another rule: another fingerprint");
	is_int(strlen(fp1), LG_FP_HEX, "fingerprint length");
	ok(strstr(fp1, "secret") == NULL, "fingerprint does not contain the secret");
	/* Path context: tests, documentation, templates; the rest is none. */
	{
		static const struct {
			const char *path;
			enum lg_context want;
		} cases[] = {
			{"tests/certs/server.key", LG_CTX_TEST},
			{"src/test/resources/application.properties", LG_CTX_TEST},
			{"pkg/auth/testdata/token.json", LG_CTX_TEST},
			{"web/__tests__/login.js", LG_CTX_TEST},
			{"spec/fixtures/keys.yml", LG_CTX_TEST},
			{"client/auth_test.go", LG_CTX_TEST},
			{"test_settings.py", LG_CTX_TEST},
			{"lib/api.spec.ts", LG_CTX_TEST},
			{"app/src/LoginTest.java", LG_CTX_TEST},
			{"app/src/LoginTests.kt", LG_CTX_TEST},
			{"conftest.py", LG_CTX_TEST},
			{"database/factories/UserFactory.php", LG_CTX_TEST},
			{"test_utils/fixtures.go", LG_CTX_TEST},
			{"docs_src/security/tutorial004.py", LG_CTX_DOC},
			{"examples-app/config.js", LG_CTX_DOC},
			{"docs/config.rst", LG_CTX_DOC},
			{"README.md", LG_CTX_DOC},
			{"guide/setup.adoc", LG_CTX_DOC},
			{"examples/client.py", LG_CTX_DOC},
			{"docs/_templates/sidebar.html", LG_CTX_DOC},
			{".env.example", LG_CTX_TEMPLATE},
			{"config/database.yml.sample", LG_CTX_TEMPLATE},
			{"config.sample.yml", LG_CTX_TEMPLATE},
			{"settings.py.dist", LG_CTX_TEMPLATE},
			{"src/pip/_vendor/urllib3/builder.py", LG_CTX_VENDOR},
			{"web/node_modules/pkg/index.js", LG_CTX_VENDOR},
			{"third_party/zlib/zconf.h", LG_CTX_VENDOR},
			{"config/settings.py", LG_CTX_NONE},
			{"vendors.py", LG_CTX_NONE},
			{".env", LG_CTX_NONE},
			{".env.production", LG_CTX_NONE},
			{"deploy/aws.ini", LG_CTX_NONE},
			{"src/latest.py", LG_CTX_NONE},
			{"src/contest/Manifest.java", LG_CTX_NONE},
			{"attestation/keys.go", LG_CTX_NONE},
			{"testimonials/index.html", LG_CTX_NONE},
			{"doctor/settings.py", LG_CTX_NONE},
			{"docker/compose.env", LG_CTX_NONE},
			{"src/examplesite/config.py", LG_CTX_NONE},
			{"notes.txt", LG_CTX_NONE},
			{"", LG_CTX_NONE},
		};
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			is_str(lg_context_name(lg_path_context(cases[i].path)), lg_context_name(cases[i].want),
			       "context of '%s' is %s", cases[i].path, lg_context_name(cases[i].want));
		}
		ok(lg_path_context(NULL) == LG_CTX_NONE, "no path: no context");
	}
	return done();
}
