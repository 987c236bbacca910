/* fstype.c - network and virtual file systems by statfs f_type
 * (fstype.h). The magic numbers are the kernel's (linux/magic.h and the
 * file systems' own headers), written out: not every libc has them all. */
#include "config.h"

#include "fstype.h"

#include <stddef.h>
#ifdef __linux__
#include <sys/vfs.h>
#endif

static const struct {
	unsigned long long magic;
	const char *name;
} remote[] = {
	{ 0x6969ULL, "nfs" },        /* NFS_SUPER_MAGIC */
	{ 0xFF534D42ULL, "cifs" },   /* CIFS_SUPER_MAGIC */
	{ 0xFE534D42ULL, "smb2" },   /* SMB2_SUPER_MAGIC (ksmbd's clients) */
	{ 0x517BULL, "smb" },        /* SMB_SUPER_MAGIC, the old smbfs */
	{ 0x01021997ULL, "9p" },     /* V9FS_MAGIC: WSL2's /mnt/c, QEMU shares */
	{ 0x65735546ULL, "fuse" },   /* FUSE_SUPER_MAGIC: sshfs, ... */
	{ 0x786F4256ULL, "vboxsf" }, /* VBOXSF_SUPER_MAGIC: VirtualBox shares */
};

const char *fstype_remote(unsigned long long magic)
{
	for (size_t i = 0; i < sizeof remote / sizeof *remote; i++)
		if (remote[i].magic == magic)
			return remote[i].name;
	return NULL;
}

const char *fstype_remote_dir(const char *dir)
{
#ifdef __linux__
	struct statfs st;
	if (statfs(dir, &st) < 0)
		return NULL;
	/* f_type is signed on some architectures: CIFS's magic is negative
	 * there, so only its low 32 bits are compared */
	return fstype_remote((unsigned long long)st.f_type & 0xFFFFFFFFULL);
#else
	(void)dir;
	return NULL;
#endif
}
