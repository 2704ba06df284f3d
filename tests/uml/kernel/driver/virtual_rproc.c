// SPDX-License-Identifier: GPL-2.0-only
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
/*
 * virtual_rproc: remote processors whose firmware runs as a userspace program.
 *
 * The test remoteproc driver of rpmsgd's real-kernel lane (tests/uml/README.md). It registers
 * one remote processor per name in the "procs" parameter (virtual_rproc.procs=cm4,dsp on the
 * kernel command line), each with its own device memory, and leaves everything else to the
 * remoteproc core: firmware "rproc-<name>-fw" from the firmware loader, the kernel's ELF helpers
 * for sanity checks, the resource table and the segments, vdevs, vrings, trace buffers, crash
 * handling, recovery and coredumps.
 *
 * What runs on the processor is a program that opens /dev/virtual-rproc-<name> (one opener at
 * a time), as a core's firmware would sit behind a reset line and a mailbox:
 *
 *   read()   one event per line:
 *              "start mem=PA da=DA size=SIZE image=PA,SIZE ram=SIZE"  the processor was
 *                      released from reset; its memory (SIZE bytes at device address DA) is at
 *                      guest-physical PA, and a copy of the ELF image the core booted (the
 *                      processor's flash) is at guest-physical PA,SIZE;
 *              "kick N"  Linux notified virtqueue or vdev N (rproc_ops.kick);
 *              "stop"    the processor is put into reset: answer "stopped" at once.
 *   write()  one command per line: "kick N" (rproc_vq_interrupt), "crash TYPE"
 *            (rproc_report_crash; 0 mmu fault, 1 watchdog, 2 fatal error), "stopped".
 *   mmap()   guest-physical memory, page offset = page frame number: the firmware reaches its
 *            own memory, the vrings the core allocated (their addresses are in the loaded
 *            resource table) and the buffers the descriptors point at. The mapping is revoked
 *            when the processor stops.
 *   poll()   readable while an event waits.
 *
 * Device addresses are guest-physical addresses: there is no IOMMU, and dma-direct on UML
 * hands out physical addresses. Nothing here is specific to UML, but it only makes sense on a
 * kernel whose memory is also the "board" (a test kernel).
 */

#include <linux/dma-mapping.h>
#include <linux/elf.h>
#include <linux/firmware.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/platform_device.h>
#include <linux/poll.h>
#include <linux/remoteproc.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "remoteproc_elf_helpers.h"
#include "remoteproc_internal.h"

/* The device memory each processor has: a Cortex-M4's TCML on an i.MX8M, as mkfw links to. */
#define VRPROC_MEM_DA 0x1ffe0000
#define VRPROC_MEM_SIZE SZ_256K
#define VRPROC_MAX 8
#define VRPROC_EVENTS 16
#define VRPROC_LINE 160
/* How long stop waits for the firmware program to say it stopped. */
#define VRPROC_STOP_TIMEOUT (2 * HZ)

/*
 * The end of guest-physical memory the firmware may map: the end of the kernel's direct map.
 * (max_pfn is no bound here: UML sets it to the number of RAM pages, and RAM does not start at
 * page frame 0.)
 */
static phys_addr_t vrproc_ram_end(void)
{
	return __pa((unsigned long)high_memory - 1) + 1;
}

static char *procs = "";
module_param(procs, charp, 0444);
MODULE_PARM_DESC(procs, "comma-separated names of the remote processors to register");

struct vrproc {
	struct rproc *rproc;
	struct platform_device *pdev;
	char name[32];
	char devname[48];
	struct miscdevice misc;

	void *mem;
	dma_addr_t mem_dma;

	/* The ELF image the core booted last (pages, so that the firmware can map it). */
	void *image;
	size_t image_size;

	spinlock_t lock;
	wait_queue_head_t wq;
	bool opened;
	struct address_space *mapping;
	char events[VRPROC_EVENTS][VRPROC_LINE];
	unsigned int head, count;
	u64 kicks;
	bool awaiting_stop;
	bool stopped;
};

/* Queues a lifecycle event; kicks from before a stop die with it. Caller holds the lock. */
static void vrproc_queue(struct vrproc *vp, const char *line)
{
	if (vp->count == VRPROC_EVENTS) {
		dev_warn(&vp->pdev->dev, "event queue full; dropping \"%s\"\n", line);
		return;
	}
	strscpy(vp->events[(vp->head + vp->count) % VRPROC_EVENTS], line, VRPROC_LINE);
	vp->count++;
	if (!strcmp(line, "stop"))
		vp->kicks = 0;
}

static int vrproc_prepare(struct rproc *rproc)
{
	struct vrproc *vp = rproc->priv;
	struct rproc_mem_entry *mem;

	/* The core frees carveout entries at every shutdown; the memory itself stays. */
	mem = rproc_mem_entry_init(&vp->pdev->dev, vp->mem, vp->mem_dma, VRPROC_MEM_SIZE,
				   VRPROC_MEM_DA, NULL, NULL, "%s-mem", vp->name);
	if (!mem)
		return -ENOMEM;
	rproc_add_carveout(rproc, mem);
	return 0;
}

/* The core's ELF resource-table parser, and a coredump of every loadable segment. */
static int vrproc_parse_fw(struct rproc *rproc, const struct firmware *fw)
{
	const u8 *elf_data = fw->data;
	const void *ehdr = elf_data;
	u8 class = fw_elf_get_class(fw);
	size_t phdr_size = elf_size_of_phdr(class);
	const void *phdr;
	int i, ret;

	ret = rproc_elf_load_rsc_table(rproc, fw);
	if (ret)
		return ret;

	rproc_coredump_set_elf_info(rproc, class, elf_hdr_get_e_machine(class, ehdr));
	/* rproc_elf_sanity_check has checked that the program headers lie inside the image. */
	phdr = elf_data + elf_hdr_get_e_phoff(class, ehdr);
	for (i = 0; i < elf_hdr_get_e_phnum(class, ehdr); i++, phdr += phdr_size) {
		if (elf_phdr_get_p_type(class, phdr) != PT_LOAD ||
		    !elf_phdr_get_p_memsz(class, phdr))
			continue;
		ret = rproc_coredump_add_segment(rproc, elf_phdr_get_p_paddr(class, phdr),
						 elf_phdr_get_p_memsz(class, phdr));
		if (ret)
			return ret;
	}
	return 0;
}

static void vrproc_free_image(struct vrproc *vp)
{
	if (vp->image)
		free_pages_exact(vp->image, vp->image_size);
	vp->image = NULL;
	vp->image_size = 0;
}

/* The core's segment loader; the image itself is kept as the processor's flash. */
static int vrproc_load(struct rproc *rproc, const struct firmware *fw)
{
	struct vrproc *vp = rproc->priv;
	int ret;

	ret = rproc_elf_load_segments(rproc, fw);
	if (ret)
		return ret;
	vrproc_free_image(vp);
	vp->image = alloc_pages_exact(fw->size, GFP_KERNEL);
	if (!vp->image) {
		dev_err(&rproc->dev, "no contiguous %zu bytes for a copy of the image\n", fw->size);
		return -ENOMEM;
	}
	memcpy(vp->image, fw->data, fw->size);
	vp->image_size = fw->size;
	return 0;
}

static int vrproc_start(struct rproc *rproc)
{
	struct vrproc *vp = rproc->priv;
	char line[VRPROC_LINE];
	unsigned long flags;

	snprintf(line, sizeof(line),
		 "start mem=0x%llx da=0x%x size=0x%x image=0x%llx,0x%zx ram=0x%llx",
		 (unsigned long long)vp->mem_dma, VRPROC_MEM_DA, VRPROC_MEM_SIZE,
		 (unsigned long long)virt_to_phys(vp->image), vp->image_size,
		 (unsigned long long)vrproc_ram_end());
	spin_lock_irqsave(&vp->lock, flags);
	vp->stopped = false;
	vrproc_queue(vp, line);
	spin_unlock_irqrestore(&vp->lock, flags);
	wake_up_interruptible(&vp->wq);
	return 0;
}

static int vrproc_stop(struct rproc *rproc)
{
	struct vrproc *vp = rproc->priv;
	struct address_space *mapping;
	unsigned long flags;
	bool wait;

	spin_lock_irqsave(&vp->lock, flags);
	wait = vp->opened;
	vp->awaiting_stop = wait;
	vp->stopped = !wait;
	vrproc_queue(vp, "stop");
	spin_unlock_irqrestore(&vp->lock, flags);
	wake_up_interruptible(&vp->wq);

	if (wait && !wait_event_timeout(vp->wq, vp->stopped, VRPROC_STOP_TIMEOUT))
		dev_warn(&rproc->dev, "the firmware did not acknowledge the stop; resetting it\n");

	/* Reset: the firmware loses its view of memory, whatever it was doing. */
	spin_lock_irqsave(&vp->lock, flags);
	vp->awaiting_stop = false;
	mapping = vp->mapping;
	spin_unlock_irqrestore(&vp->lock, flags);
	if (mapping)
		unmap_mapping_range(mapping, 0, 0, 1);
	return 0;
}

static void vrproc_kick(struct rproc *rproc, int vqid)
{
	struct vrproc *vp = rproc->priv;
	unsigned long flags;

	if (vqid < 0 || vqid >= 64) {
		dev_warn(&rproc->dev, "kick of notify id %d, which the firmware cannot see\n", vqid);
		return;
	}
	spin_lock_irqsave(&vp->lock, flags);
	vp->kicks |= BIT_ULL(vqid);
	spin_unlock_irqrestore(&vp->lock, flags);
	wake_up_interruptible(&vp->wq);
}

static const struct rproc_ops vrproc_ops = {
	.prepare = vrproc_prepare,
	.start = vrproc_start,
	.stop = vrproc_stop,
	.kick = vrproc_kick,
	.parse_fw = vrproc_parse_fw,
	.load = vrproc_load,
	.sanity_check = rproc_elf_sanity_check,
	.find_loaded_rsc_table = rproc_elf_find_loaded_rsc_table,
	.get_boot_addr = rproc_elf_get_boot_addr,
};

static struct vrproc *vrproc_of_file(struct file *file)
{
	return container_of(file->private_data, struct vrproc, misc);
}

static int vrproc_open(struct inode *inode, struct file *file)
{
	struct vrproc *vp = vrproc_of_file(file);
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&vp->lock, flags);
	if (vp->opened) {
		ret = -EBUSY;
	} else {
		vp->opened = true;
		vp->mapping = file->f_mapping;
	}
	spin_unlock_irqrestore(&vp->lock, flags);
	return ret;
}

static int vrproc_release(struct inode *inode, struct file *file)
{
	struct vrproc *vp = vrproc_of_file(file);
	unsigned long flags;

	spin_lock_irqsave(&vp->lock, flags);
	vp->opened = false;
	vp->mapping = NULL;
	/* A firmware program that goes away mid-stop has stopped. */
	if (vp->awaiting_stop)
		vp->stopped = true;
	spin_unlock_irqrestore(&vp->lock, flags);
	wake_up(&vp->wq);
	return 0;
}

static bool vrproc_pending(struct vrproc *vp)
{
	return vp->count || vp->kicks;
}

static ssize_t vrproc_read(struct file *file, char __user *buf, size_t len, loff_t *ppos)
{
	struct vrproc *vp = vrproc_of_file(file);
	char line[VRPROC_LINE + 1];
	unsigned long flags;
	size_t n;
	int ret;

	for (;;) {
		spin_lock_irqsave(&vp->lock, flags);
		if (vp->count) {
			snprintf(line, sizeof(line), "%s\n", vp->events[vp->head]);
			vp->head = (vp->head + 1) % VRPROC_EVENTS;
			vp->count--;
			break;
		}
		if (vp->kicks) {
			int id = __ffs64(vp->kicks);

			vp->kicks &= ~BIT_ULL(id);
			snprintf(line, sizeof(line), "kick %d\n", id);
			break;
		}
		spin_unlock_irqrestore(&vp->lock, flags);
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = wait_event_interruptible(vp->wq, vrproc_pending(vp));
		if (ret)
			return ret;
	}
	spin_unlock_irqrestore(&vp->lock, flags);

	n = strlen(line);
	if (len < n)
		return -EINVAL;
	if (copy_to_user(buf, line, n))
		return -EFAULT;
	return n;
}

static int vrproc_command(struct vrproc *vp, char *cmd)
{
	struct rproc *rproc = vp->rproc;
	char *arg = strchr(cmd, ' ');
	unsigned long flags;
	u32 n = 0;

	if (arg) {
		*arg++ = '\0';
		if (kstrtou32(arg, 0, &n))
			return -EINVAL;
	}
	if (!strcmp(cmd, "stopped") && !arg) {
		spin_lock_irqsave(&vp->lock, flags);
		if (vp->awaiting_stop)
			vp->stopped = true;
		spin_unlock_irqrestore(&vp->lock, flags);
		wake_up(&vp->wq);
		return 0;
	}
	if (!arg)
		return -EINVAL;
	if (rproc->state != RPROC_RUNNING)
		return -ESRCH; /* in reset: a late kick or crash goes nowhere */
	if (!strcmp(cmd, "kick")) {
		/* Process context: the rpmsg receive path may sleep. */
		rproc_vq_interrupt(rproc, n);
		return 0;
	}
	if (!strcmp(cmd, "crash")) {
		if (n > RPROC_FATAL_ERROR)
			return -EINVAL;
		rproc_report_crash(rproc, n);
		return 0;
	}
	return -EINVAL;
}

static ssize_t vrproc_write(struct file *file, const char __user *buf, size_t len,
			    loff_t *ppos)
{
	struct vrproc *vp = vrproc_of_file(file);
	char cmd[64];
	char *line, *next;
	int ret;

	if (len >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, buf, len))
		return -EFAULT;
	cmd[len] = '\0';
	for (line = cmd; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		ret = vrproc_command(vp, line);
		if (ret)
			return ret;
	}
	return len;
}

static __poll_t vrproc_poll(struct file *file, poll_table *wait)
{
	struct vrproc *vp = vrproc_of_file(file);

	poll_wait(file, &vp->wq, wait);
	return vrproc_pending(vp) ? EPOLLIN | EPOLLRDNORM : 0;
}

static int vrproc_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned long pages = vma_pages(vma);
	unsigned long end_pfn = PHYS_PFN(vrproc_ram_end());

	if (vma->vm_pgoff >= end_pfn || pages > end_pfn - vma->vm_pgoff)
		return -EINVAL;
	return remap_pfn_range(vma, vma->vm_start, vma->vm_pgoff, pages << PAGE_SHIFT,
			       vma->vm_page_prot);
}

static const struct file_operations vrproc_fops = {
	.owner = THIS_MODULE,
	.open = vrproc_open,
	.release = vrproc_release,
	.read = vrproc_read,
	.write = vrproc_write,
	.poll = vrproc_poll,
	.mmap = vrproc_mmap,
	.llseek = noop_llseek,
};

static int vrproc_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	const char *name = dev_get_platdata(dev);
	char firmware[48];
	struct vrproc *vp;
	struct rproc *rproc;
	int ret;

	ret = dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(32));
	if (ret)
		return ret;
	snprintf(firmware, sizeof(firmware), "rproc-%s-fw", name);
	rproc = devm_rproc_alloc(dev, name, &vrproc_ops, firmware, sizeof(*vp));
	if (!rproc)
		return -ENOMEM;
	rproc->auto_boot = false;
	rproc->has_iommu = false;
	vp = rproc->priv;
	vp->rproc = rproc;
	vp->pdev = pdev;
	strscpy(vp->name, name, sizeof(vp->name));
	spin_lock_init(&vp->lock);
	init_waitqueue_head(&vp->wq);

	vp->mem = dmam_alloc_coherent(dev, VRPROC_MEM_SIZE, &vp->mem_dma, GFP_KERNEL);
	if (!vp->mem)
		return -ENOMEM;

	ret = devm_rproc_add(dev, rproc);
	if (ret)
		return ret;

	snprintf(vp->devname, sizeof(vp->devname), "virtual-rproc-%s", name);
	vp->misc.minor = MISC_DYNAMIC_MINOR;
	vp->misc.name = vp->devname;
	vp->misc.fops = &vrproc_fops;
	vp->misc.mode = 0600;
	ret = misc_register(&vp->misc);
	if (ret)
		return ret;
	platform_set_drvdata(pdev, vp);
	dev_info(dev, "%s: %u KiB at device address 0x%x, firmware program on /dev/%s\n", name,
		 VRPROC_MEM_SIZE / 1024, VRPROC_MEM_DA, vp->devname);
	return 0;
}

static struct platform_driver vrproc_driver = {
	.probe = vrproc_probe,
	.driver = {
		.name = "virtual-rproc",
		.suppress_bind_attrs = true,
	},
};

static int __init vrproc_init(void)
{
	char *names, *cur, *name;
	int ret, id = 0;

	ret = platform_driver_register(&vrproc_driver);
	if (ret)
		return ret;
	names = kstrdup(procs, GFP_KERNEL);
	if (!names)
		return -ENOMEM;
	cur = names;
	while ((name = strsep(&cur, ",")) != NULL) {
		struct platform_device *pdev;

		if (!*name)
			continue;
		if (id == VRPROC_MAX || strlen(name) >= sizeof(((struct vrproc *)0)->name)) {
			pr_err("virtual_rproc: cannot register \"%s\" (at most %d names of up to 31 characters)\n",
			       name, VRPROC_MAX);
			continue;
		}
		pdev = platform_device_register_data(NULL, "virtual-rproc", id, name,
						     strlen(name) + 1);
		if (IS_ERR(pdev)) {
			pr_err("virtual_rproc: %s: %ld\n", name, PTR_ERR(pdev));
			continue;
		}
		id++;
	}
	kfree(names);
	return 0;
}
module_init(vrproc_init);

MODULE_DESCRIPTION("Remote processors whose firmware runs as a userspace program (test driver)");
MODULE_LICENSE("GPL");
