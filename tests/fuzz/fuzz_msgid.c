/*
 * fuzz_msgid - libFuzzer target for the job name read back from a
 * bounce's Message-ID and ENVID (lib/msgid.c): the input is what a
 * stranger's bounce can put in those fields.
 *
 * Checks for every input: a name read back is a valid job name, and
 * encoding it again reads back the same name (both ways); a valid job
 * name given as input survives both encodings; nothing is written past
 * the buffers (ASan), and a buffer too small gives NULL, never a cut name.
 *
 * Build:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ilib \
 *     tests/fuzz/fuzz_msgid.c lib/msgid.c lib/spooldir.c lib/spooldir_write.c -lz \
 *     -o fuzz_msgid
 *   ./fuzz_msgid -max_len=1024 tests/fuzz/corpus/msgid
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msgid.h"
#include "spooldir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* again - name encoded both ways reads back as name */
static void again(const char *name)
{
	char id[MSG_ID_MAX * 3], env[SPOOLDIR_NAME_MAX * 3 + 16], back[SPOOLDIR_NAME_MAX + 1];

	msg_message_id(name, "office@clinic.example", id, sizeof id);
	if (!msg_message_id_name(id, back, sizeof back) || strcmp(back, name))
		abort();
	msg_envid(name, env, sizeof env);
	if (!msg_envid_name(env, back, sizeof back) || strcmp(back, name))
		abort();
}

/* LLVMFuzzerTestOneInput - one input: a Message-ID or ENVID as received */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), name[SPOOLDIR_NAME_MAX + 1], tiny[4];

	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if (msg_message_id_name(in, name, sizeof name)) {
		if (!spooldir_name_valid(name))
			abort();
		again(name);
	}
	if (msg_envid_name(in, name, sizeof name)) {
		if (!spooldir_name_valid(name))
			abort();
		again(name);
	}
	if (msg_envid_name(in, tiny, sizeof tiny) && strlen(tiny) >= sizeof tiny)
		abort();
	if (strlen(in) == size && spooldir_name_valid(in))
		again(in);
	free(in);
	return 0;
}
