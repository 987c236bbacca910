/* fstype.h - file systems where inotify does not see every write: network
 * and virtual file systems whose files other machines (or a VM's host) may
 * change (NFS, CIFS/SMB, 9p as in WSL2's /mnt/c, FUSE such as sshfs,
 * vboxsf), found by statfs(2)'s f_type. The watcher "auto" picks poll for
 * them. */
#ifndef GUST_FSTYPE_H
#define GUST_FSTYPE_H

/* The name of the network or virtual file system whose statfs f_type is
 * magic ("nfs", "cifs", "smb2", "smb", "9p", "fuse", "vboxsf"), or NULL
 * for any other (a local one). Pure. */
const char *fstype_remote(unsigned long long magic);

/* The same for the file system dir is on; NULL when it is local or cannot
 * be told (statfs failed, or a system without f_type). */
const char *fstype_remote_dir(const char *dir);

#endif
