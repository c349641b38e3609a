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
 * Privacy provider for local_lmsbridge.
 *
 * @package    local_lmsbridge
 * @copyright  2026 LMS Bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

namespace local_lmsbridge\privacy;

/**
 * The plugin stores no personal data: restore rows hold no user id and the
 * cartridge file is kept without owner only until its restore has finished.
 */
class provider implements \core_privacy\local\metadata\null_provider {
    /**
     * Explain why the plugin stores no personal data.
     *
     * @return string language string identifier
     */
    public static function get_reason(): string {
        return 'privacy:metadata';
    }
}
