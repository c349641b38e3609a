<?php
// This file is part of Moodle - https://moodle.org/
//
// Moodle is free software: you can redistribute it and/or modify
// it under the terms of the GNU General Public License as published by
// the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.
//
// Moodle is distributed in the hope that it will be useful,
// but WITHOUT ANY WARRANTY; without even the implied warranty of
// MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
// GNU General Public License for more details.
//
// You should have received a copy of the GNU General Public License
// along with Moodle.  If not, see <https://www.gnu.org/licenses/>.

/**
 * English strings for local_lmsbridge.
 *
 * @package    local_lmsbridge
 * @category   string
 * @copyright  2026 LMS Bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$string['error:badmode'] = 'Mode "{$a}" cannot be used here: use "new" with courseid 0, "merge" or "replace" with an existing course.';
$string['error:cartridgegone'] = 'The kept copy of "{$a}" is gone; was the course deleted meanwhile?';
$string['error:converterstopped'] = 'Moodle\'s Common Cartridge converter stopped: {$a}';
$string['error:interrupted'] = 'The restore was interrupted: the PHP process running it ended before it could finish. See the ad-hoc task log.';
$string['error:namesrequired'] = 'A new course needs categoryid, fullname and shortname.';
$string['error:newcoursedeleted'] = 'The empty course created for this restore was deleted again.';
$string['error:nocartridge'] = 'The draft area {$a} of the calling user holds no file. Upload the cartridge through /webservice/upload.php first and pass the itemid it returns.';
$string['error:notcartridge'] = 'The file "{$a}" is not a Common Cartridge 1.0 or 1.1 package (no imsmanifest.xml with the IMS CC 1.0/1.1 namespace).';
$string['error:notzip'] = 'The file "{$a}" is not a ZIP archive, so it is no Common Cartridge.';
$string['error:precheck'] = 'The restore precheck failed: {$a}';
$string['error:unsupportedversion'] = 'The file "{$a->filename}" is a Common Cartridge {$a->version} package. Moodle imports Common Cartridge 1.0 and 1.1 only; export or build the cartridge as version 1.1.';
$string['lmsbridge:restorecartridge'] = 'Restore Common Cartridges through the LMS Bridge web service';
$string['pluginname'] = 'LMS Bridge';
$string['privacy:metadata'] = 'The LMS Bridge plugin stores no personal data. It keeps the state of cartridge restores (course, status, message) and the cartridge file until its restore has finished.';
$string['status:done'] = 'Restore finished: the course has {$a->sections} sections and {$a->activities} activities.';
$string['status:warnings'] = 'Warnings: {$a}';
$string['taskrestorecartridge'] = 'Restore a Common Cartridge (LMS Bridge)';
$string['warning:nosection'] = 'Course {$a->course} has no section {$a->section}.';
